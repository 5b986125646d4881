"""Turn files of every supported kind into raw text (the first corpus step).

Cleaning (web debris, pinyin annotations, traditional→simplified, ...) happens
later in ``policyqa.corpus.clean``; this module only gets the words out of a
file, in reading order, and says clearly when it cannot.

Every failure is a :class:`LoadError` whose message is one line naming the file
and the problem, e.g. ``skipped 'x.pdf': PDF is encrypted (password required)``.
:func:`read_paths` turns those into :class:`~policyqa.corpus.types.Skipped`
entries so one bad file never stops a folder from loading.

Legacy Chinese encodings (GBK/GB18030, Big5) are easy to confuse with each
other, so text files are decoded strictly with every plausible codec and the
result that reads most like Chinese (highest share of common hanzi, penalties
for private-use, control and replacement characters) wins; a result that reads
like nothing is rejected instead of being returned as mojibake.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from policyqa.corpus.types import Skipped

SUPPORTED = (".txt", ".md", ".html", ".htm", ".docx", ".pdf", ".jsonl")
DEFAULT_MAX_BYTES = 20_000_000

_SNIFF_BYTES = 8192  # NUL bytes in this prefix mean "binary"
_MAX_LINE_PROBLEMS = 50  # per .jsonl file; the rest are summarised in one entry
_MAX_UNZIPPED = 500_000_000  # a .docx expanding past this is treated as a zip bomb
_MIN_TEXT_SCORE = 0.35  # below this a decoding is considered mojibake/binary


@dataclass(frozen=True)
class RawDoc:
    """One document's raw text as read from a file (not yet cleaned)."""

    doc_id: str  # file name, or the record "id" for .jsonl
    text: str
    source: str  # path it was read from (``path:line`` for .jsonl records)
    fmt: str  # txt | md | html | docx | pdf | jsonl
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # jsonl extras; "encoding" for text files


class LoadError(Exception):
    """A file that cannot be read; ``str(err)`` is the one-line user message."""

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"skipped '{Path(path).name}': {problem}")


# --------------------------------------------------------------------------- api


def read_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[RawDoc]:
    """Read one file into raw documents (several for .jsonl, one otherwise).

    Raises :class:`LoadError` when the file cannot be read at all.  Bad lines
    of a .jsonl file are dropped silently here; use :func:`read_file_report`
    to get them reported.
    """
    return read_file_report(path, max_bytes)[0]


def read_file_report(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[RawDoc], list[Skipped]]:
    """Like :func:`read_file`, but also return per-line problems of a .jsonl file.

    Whole-file failures still raise :class:`LoadError`.  ``max_bytes`` limits
    the file size, except for .jsonl, which is streamed and limited per record.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        shown = ext or "(no extension)"
        raise LoadError(path, f"unsupported type {shown} (supported: {', '.join(SUPPORTED)})")
    size = _check_file(path)
    if ext == ".jsonl":
        return _read_jsonl(path, max_bytes)
    if size > max_bytes:
        raise LoadError(path, f"{size / 1e6:.1f} MB exceeds the {max_bytes / 1e6:g} MB limit")
    if size == 0:
        raise LoadError(path, "empty file")
    reader = {".docx": _read_docx, ".pdf": _read_pdf, ".html": _read_html, ".htm": _read_html}
    doc = reader.get(ext, _read_text)(path, max_bytes)
    if not doc.text.strip():
        raise LoadError(path, "empty file (only whitespace)" if doc.fmt in ("txt", "md") else "no text found")
    return [doc], []


def iter_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the list of files to read.

    Folders are walked recursively in sorted order, skipping hidden files and
    folders and keeping only supported extensions.  A file named explicitly is
    always returned (even if unsupported or missing) so that it gets reported.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        found = _walk(p) if p.is_dir() else [p]
        for f in found:
            if f not in seen:
                seen.add(f)
                out.append(f)
    return out


def read_paths(
    paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[RawDoc], list[Skipped]]:
    """Read every file under ``paths``; return the documents and what was skipped.

    One :class:`Skipped` per unreadable file, bad .jsonl line or duplicate
    document id (the first occurrence wins); everything else still loads.
    """
    docs: list[RawDoc] = []
    skipped: list[Skipped] = []
    first_source: dict[str, str] = {}
    for f in iter_files(paths):
        try:
            got, problems = read_file_report(f, max_bytes)
        except LoadError as e:
            skipped.append(Skipped(str(f), str(e)))
            continue
        skipped.extend(problems)
        for d in got:
            if d.doc_id in first_source:
                skipped.append(
                    Skipped(
                        d.source,
                        f"skipped '{Path(d.source).name}': duplicate document id "
                        f"'{d.doc_id}' (already loaded from {first_source[d.doc_id]})",
                    )
                )
                continue
            first_source[d.doc_id] = d.source
            docs.append(d)
    return docs, skipped


# ---------------------------------------------------------------- files & walking


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            f = Path(dirpath) / name
            if name.startswith(".") or f.suffix.lower() not in SUPPORTED:
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISREG(f.stat().st_mode):
                    found.append(f)
    return found


def _check_file(path: Path) -> int:
    """Stat ``path``; return its size or raise a LoadError saying why it is unusable."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError(path, "no such file") from None
    except PermissionError:
        raise LoadError(path, "cannot read (permission denied)") from None
    except OSError as e:
        raise LoadError(path, f"cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(path, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(path, "not a regular file (device, pipe or socket)")
    if not os.access(path, os.R_OK):
        raise LoadError(path, "cannot read (permission denied)")
    return st.st_size


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise LoadError(path, "cannot read (permission denied)") from None
    except OSError as e:
        raise LoadError(path, f"cannot read ({e.strerror or e})") from None
    if len(data) > max_bytes:  # grew after stat, or a size-0 pseudo file
        raise LoadError(path, f"larger than the {max_bytes / 1e6:g} MB limit")
    if not data:
        raise LoadError(path, "empty file")
    return data


# ------------------------------------------------------------------ plain text


def _read_text(path: Path, max_bytes: int) -> RawDoc:
    text, enc = decode_bytes(_read_bytes(path, max_bytes), path)
    fmt = path.suffix.lower().lstrip(".")
    title = _markdown_title(text) if fmt == "md" else ""
    return RawDoc(path.name, text, str(path), fmt, title, {"encoding": enc})


def _markdown_title(text: str) -> str:
    m = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.MULTILINE)
    return m.group(1).strip() if m else ""


def decode_bytes(data: bytes, path: Path | str = "", declared: str = "") -> tuple[str, str]:
    """Decode file bytes to text; return ``(text, encoding)``.

    Order: BOM (UTF-8/16/32) → strict UTF-8 → the ``declared`` charset (e.g.
    an HTML ``<meta charset>``) if it decodes cleanly and reads no worse than
    the alternatives → the best-reading strict decoding among GB18030, Big5
    variants and charset-normalizer's guesses (or UTF-8 with a few bad bytes,
    e.g. a cut-off last character).  Newlines become ``\\n``.  Very short
    legacy-encoded texts (a few characters) can be ambiguous between GBK and
    Big5; GB18030 wins ties.
    Raises :class:`LoadError` for binary data or undecodable/mojibake text.
    """
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _newlines(data.decode(enc)), enc
            except UnicodeDecodeError:
                raise LoadError(path, f"starts with a {enc} byte-order mark but is not valid {enc}") from None
    if b"\x00" in data[:_SNIFF_BYTES]:
        enc = _bomless_utf16(data)
        if not enc:
            raise LoadError(path, "looks binary (NUL bytes), not text")
        return _newlines(data.decode(enc)), enc
    try:
        return _checked(data.decode("utf-8"), "utf-8", path), "utf-8"
    except UnicodeDecodeError:
        pass
    text, enc = _best_legacy_decoding(data, declared)
    if text is None:
        raise LoadError(path, "looks binary or uses an unknown text encoding (could not decode it)")
    return _checked(text, enc, path), enc


def _newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _checked(text: str, enc: str, path: Path | str) -> str:
    sample = text[:_SNIFF_BYTES]
    bad = sum(1 for c in sample if _is_control(c))
    if bad > max(2, len(sample) // 100):
        raise LoadError(path, "looks binary (control characters), not text")
    return _newlines(text)


def _is_control(c: str) -> bool:
    return unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v\x1a"


def _bomless_utf16(data: bytes) -> str:
    """Recognise UTF-16 without a BOM from where its NUL bytes sit; else ''."""
    head = data[: _SNIFF_BYTES - _SNIFF_BYTES % 2]
    if len(data) % 2 or len(head) < 4:
        return ""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    for enc, nuls, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        # ASCII puts NULs on one side; on the other only U+xx00 code points (e.g. 一) do
        if nuls >= max(2, half * 0.02) and other <= max(2, half // 20) and other < nuls / 2:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            # real text uses more than a handful of distinct characters (b"\x00\xff" * n is not text)
            if _score(text) >= _MIN_TEXT_SCORE and len(set(text[:4096])) >= min(8, len(text) // 4 + 1):
                return enc
    return ""


_LEGACY = ("gb18030", "cp950", "big5hkscs")
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
    "euc-cn": "gb18030", "euc_cn": "gb18030", "big5": "cp950", "x-x-big5": "cp950",
    "big5-hkscs": "big5hkscs", "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
}


def _canonical(name: str) -> str:
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def _best_legacy_decoding(data: bytes, declared: str) -> tuple[str | None, str]:
    declared = _canonical(declared) if declared else ""
    names = [declared] if declared else []
    names += list(_LEGACY) + _normalizer_guesses(data) + ["cp1252"]
    scored: list[tuple[float, int, str, str]] = []
    lossy = data.decode("utf-8", errors="replace")
    if lossy.count("\ufffd") <= max(2, len(lossy) // 2000):  # a few bad bytes, e.g. a cut-off end
        scored.append((_score(lossy), 1, "utf-8", lossy))
    for rank, enc in enumerate(dict.fromkeys(n for n in names if n)):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        bonus = 0.05 if enc == declared else 0.0
        scored.append((_score(text) + bonus, -rank, enc, text))
    if not scored:
        return None, ""
    score, _, enc, text = max(scored)
    if score < _MIN_TEXT_SCORE:
        return None, ""
    return text, enc


def _normalizer_guesses(data: bytes) -> list[str]:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: the built-in candidates cover Chinese
        return []
    try:
        matches = from_bytes(data[:262_144])
    except Exception:  # a detector failure must never stop loading
        return []
    return [c for m in list(matches)[:3] if (c := _canonical(m.encoding))]


@cache
def _common_hanzi() -> frozenset[str]:
    """GB2312 level-1 (3755 most common simplified) + Big5 常用字 (5401 traditional)."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            chars.update(bytes((lead, trail)).decode("gb2312", errors="ignore"))
    trails = list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
    for lead in range(0xA4, 0xC7):
        for trail in trails:
            if (lead, trail) <= (0xC6, 0x7E):
                chars.update(bytes((lead, trail)).decode("big5", errors="ignore"))
    return frozenset(chars)


_GOOD_SYMBOLS = re.compile(
    "[\u00b7\u00d7\u00f7\u00b0\u00b1\u2010-\u2027\u2030-\u205e\u2116\u2160-\u217f"
    "\u2460-\u24ff\u3000-\u303f\uff01-\uff5e\uffe0-\uffe5]"
)


def _score(text: str, limit: int = 100_000) -> float:
    """How much ``text`` reads like real (Chinese) text: about 1.0 good, ≤0 garbage.

    Over non-ASCII characters: common hanzi and CJK punctuation +1, Latin-1
    letters +0.5 (real for European text, typical of byte-as-Latin-1 mojibake),
    other characters 0 (rare hanzi, kana, Greek...), and private-use,
    unassigned, control and replacement characters -2.
    """
    if len(text) > limit:  # sample beginning, middle and end
        third = limit // 3
        mid = len(text) // 2
        text = text[:third] + text[mid - third // 2 : mid + third // 2] + text[-third:]
    common = _common_hanzi()
    total = 0.0
    n = 0
    for c in text:
        if c < "\x80":
            if c < " " and c not in "\t\n\r\f":
                total -= 2
                n += 1
            continue
        n += 1
        if c in common or _GOOD_SYMBOLS.match(c):
            total += 1
        elif "\u00c0" <= c <= "\u00ff":
            total += 0.5
        elif c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs"):
            total -= 2
    return total / n if n else 1.0


# ------------------------------------------------------------------------ html

_DROP_TAGS = frozenset(
    {"script", "style", "noscript", "nav", "header", "footer", "form", "template", "svg", "iframe", "object"}
)
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "tr", "table", "section", "article", "main", "aside", "blockquote", "pre", "hr",
        "address", "figure", "figcaption", "caption", "center", "body", "details", "summary",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)


def _read_html(path: Path, max_bytes: int) -> RawDoc:
    data = _read_bytes(path, max_bytes)
    m = _META_CHARSET.search(data[:4096])
    declared = (m.group(1) or m.group(2)).decode("ascii") if m else ""
    markup, enc = decode_bytes(data, path, declared)
    text, title = html_to_text(markup)
    return RawDoc(path.name, text, str(path), "html", title, {"encoding": enc})


def html_to_text(markup: str) -> tuple[str, str]:
    """Visible text of an HTML page, one block per line, and its title.

    Drops script/style/noscript/nav/header/footer/form (and <title>); block
    elements and <br> become line breaks; a data table becomes one line per
    row with tab-separated cells, rowspan/colspan cells repeated into every
    position they cover (so each row has the header's columns); a layout
    table is read like other markup.
    Entities are decoded once, so ``&lt;script&gt;`` stays literal text.
    Title: <title>, else the first <h1>.
    """
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(markup, _html_parser())
    titles = {"title": "", "h1": ""}  # first of each, collected during the walk
    skip_strings = (Comment, Declaration, Doctype, ProcessingInstruction)
    pieces: list[str] = []
    stack: list[tuple[Any, bool]] = [(soup, False)]  # (node or marker string, inside <pre>)
    while stack:  # iterative walk: deeply nested garbage cannot overflow recursion
        node, pre = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            pieces.append(node)  # a marker pushed below ("\n" or "\t")
        elif isinstance(node, NavigableString):
            if not isinstance(node, skip_strings):
                pieces.append(str(node) if pre else re.sub(r"[ \t\r\n\f]+", " ", str(node)))
        elif isinstance(node, Tag):
            name = (node.name or "").lower()
            if name in titles and not titles[name]:
                titles[name] = _collapse(node.get_text())
            if name in _DROP_TAGS or name == "title":
                continue
            if name == "br":
                pieces.append("\n")
                continue
            if name == "table":
                grid = _table_grid(node)
                if grid is not None:  # a data table: one tab-separated line per row, spans expanded
                    pieces.append("\n" + "\n".join("\t".join(row) for row in grid) + "\n")
                    continue
            if name in _BLOCK_TAGS:
                pieces.append("\n")
                stack.append(("\n", pre))
            elif name in _CELL_TAGS:
                stack.append(("\t", pre))
            inner_pre = pre or name == "pre"
            stack.extend((child, inner_pre) for child in reversed(node.contents))
    lines = (line.strip() for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line), titles["title"] or titles["h1"]


_MAX_SPAN = 50  # rowspan/colspan beyond this are treated as 1 (broken or hostile markup)


def _table_grid(table: Any) -> list[list[str]] | None:
    """The rows of a data ``<table>`` with rowspan/colspan cells repeated into
    every position they cover, or None for a layout table (a single column,
    a nested table, or a cell holding a long block of text), which is read
    like any other markup."""
    from bs4 import Tag

    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    if not rows or table.find("table") is not None:
        return None
    cells_of = [[c for c in tr.find_all(["td", "th"], recursive=False)] for tr in rows]
    if max((len(c) for c in cells_of), default=0) < 2:
        return None
    grid: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows still covered, text)
    for cells in cells_of:
        row: list[str] = []
        col = 0
        queue = list(cells)
        while queue or any(c >= col for c in pending):
            if col in pending:
                left, text = pending[col]
                row.append(text)
                if left <= 1:
                    del pending[col]
                else:
                    pending[col] = (left - 1, text)
                col += 1
                continue
            if not queue:
                break
            cell = queue.pop(0)
            if not isinstance(cell, Tag):
                continue
            text = _collapse(cell.get_text(" "))
            if len(text) > 300:
                return None  # a layout cell holding the page's text
            span = _span(cell.get("colspan"))
            down = _span(cell.get("rowspan"))
            for _ in range(span):
                row.append(text)
                if down > 1:
                    pending[col] = (down - 1, text)
                col += 1
        if any(row):
            grid.append(row)
    return grid or None


def _span(value: Any) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return n if 1 <= n <= _MAX_SPAN else 1


def _html_parser() -> str:
    try:
        import lxml  # noqa: F401
    except ImportError:
        return "html.parser"
    return "lxml"


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


# ------------------------------------------------------------------------ docx


def _read_docx(path: Path, max_bytes: int) -> RawDoc:
    data_head = _read_bytes(path, max_bytes)[:8]
    if data_head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError(path, "not a valid .docx (looks like an old Word .doc; save it as .docx)")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            unzipped = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise LoadError(path, "not a valid .docx (corrupt zip)") from None
    if "word/document.xml" not in names:
        raise LoadError(path, "not a valid .docx (no word/document.xml; a renamed file?)")
    if unzipped > _MAX_UNZIPPED:
        raise LoadError(path, f"not a valid .docx (expands to {unzipped / 1e6:.0f} MB)")
    try:
        import docx

        document = docx.Document(str(path))
        blocks = list(_docx_blocks(document))
        title = (document.core_properties.title or "").strip()
    except Exception as e:  # python-docx raises many kinds on broken XML
        raise LoadError(path, f"not a valid .docx ({type(e).__name__})") from None
    return RawDoc(path.name, "\n".join(blocks), str(path), "docx", title)


def _docx_blocks(document: Any) -> Iterator[str]:
    """Paragraph texts and table rows (cells tab-separated) in document order."""
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield from _docx_table_rows(item)
        elif item.text.strip():
            yield item.text


def _docx_table_rows(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        last = None
        for cell in row.cells:
            if cell._tc is last:  # a merged cell repeats across the span
                continue
            last = cell._tc
            cells.append(" ".join(cell.text.split("\n")).strip())
        if any(cells):
            yield "\t".join(cells).rstrip("\t")


# ------------------------------------------------------------------------- pdf


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's warnings about malformed files for the duration of a read."""
    logger = logging.getLogger("pypdf")
    old = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old)


def _read_pdf(path: Path, max_bytes: int) -> RawDoc:
    data = _read_bytes(path, max_bytes)
    if b"%PDF-" not in data[:1024]:
        raise LoadError(path, "not a valid PDF (no %PDF header)")
    with _quiet_pypdf():
        try:
            import pypdf
            from pypdf.errors import DependencyError

            reader = pypdf.PdfReader(path, strict=False)
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")
                except DependencyError:
                    raise LoadError(path, "PDF is encrypted (decrypting needs the 'cryptography' package)") from None
                if not ok:
                    raise LoadError(path, "PDF is encrypted (password required)")
            pages = list(reader.pages)
        except LoadError:
            raise
        except Exception as e:  # pypdf raises many kinds on broken files
            raise LoadError(path, f"not a valid PDF ({type(e).__name__})") from None
        texts = []
        for page in pages:
            try:
                texts.append(page.extract_text() or "")
            except Exception:  # one broken page must not lose the others
                texts.append("")
        title = ""
        with contextlib.suppress(Exception):
            title = ((reader.metadata or {}).get("/Title") or "").strip()
    text = "\n".join(t.strip("\n") for t in texts)
    if not text.strip():
        raise LoadError(path, "no text layer (scanned PDF?)")
    return RawDoc(path.name, text, str(path), "pdf", str(title))


# ----------------------------------------------------------------------- jsonl


def _read_jsonl(path: Path, max_bytes: int) -> tuple[list[RawDoc], list[Skipped]]:
    """Stream a JSON Lines file: ``{"id", "text", "title"?, ...meta}`` per line.

    Bad lines are reported (with their line number) and skipped; a record
    larger than ``max_bytes`` counts as a bad line.
    """
    docs: list[RawDoc] = []
    problems: list[str] = []
    lines_seen = 0
    try:
        with open(path, "rb") as f:
            if b"\x00" in f.read(_SNIFF_BYTES):
                raise LoadError(path, "looks binary (NUL bytes), not JSON Lines")
            f.seek(0)
            for lineno, raw in enumerate(_bounded_lines(f, max_bytes), start=1):
                if raw is None:
                    problems.append(f"line {lineno}: record larger than the {max_bytes / 1e6:g} MB limit")
                    continue
                if lineno == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                if not raw.strip():
                    continue
                lines_seen += 1
                try:
                    docs.append(_jsonl_record(raw, path, lineno))
                except ValueError as e:
                    problems.append(f"line {lineno}: {e}")
    except PermissionError:
        raise LoadError(path, "cannot read (permission denied)") from None
    except OSError as e:
        raise LoadError(path, f"cannot read ({e.strerror or e})") from None
    if not lines_seen and not problems:
        raise LoadError(path, "empty file")
    name = path.name
    skipped = [Skipped(str(path), f"skipped '{name}' {p}") for p in problems[:_MAX_LINE_PROBLEMS]]
    if len(problems) > _MAX_LINE_PROBLEMS:
        more = len(problems) - _MAX_LINE_PROBLEMS
        skipped.append(Skipped(str(path), f"skipped '{name}': {more} more bad lines not listed"))
    return docs, skipped


def _bounded_lines(f: Any, max_bytes: int) -> Iterator[bytes | None]:
    """Yield lines (without newline) of at most ``max_bytes``; None for an overlong one."""
    while True:
        line = f.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # discard the remainder of the overlong line
            yield None
            continue
        yield line.rstrip(b"\r\n")


def _jsonl_record(raw: bytes, path: Path, lineno: int) -> RawDoc:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not valid UTF-8") from None
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
    doc_id = rec.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or not str(doc_id).strip():
        raise ValueError('missing or empty "id"')
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('missing or empty "text"')
    title = rec.get("title", "")
    if not isinstance(title, str):
        raise ValueError('"title" must be a string')
    meta = {k: v for k, v in rec.items() if k not in ("id", "text", "title")}
    return RawDoc(str(doc_id).strip(), text, f"{path}:{lineno}", "jsonl", title.strip(), meta)
