"""Tables as readable, citable rows.

Readers give a table as one line per row with tab-separated cells (html
``<table>``, docx tables); a PDF's text layer gives it as lines of
space-separated fields under a line of column names; a Markdown file as pipe
rows (``| 级别 | 奖励 |``) with a delimiter row (``| --- | :---: |``) under the
header.  :func:`linearize_tables`
rewrites every table so that each data row is one self-contained line that
keeps the header row's column names::

    序号 | 认定类别 | 奖励标准                      (the header row, kept as it is)
    序号：1 | 认定类别：国家级 | 奖励标准：100万元    (a data row)

so 「国家级 … 100万元」 can be found, quoted and cited on its own.  The header
row is recognised from the table itself: a first row of short, figure-free
cells above rows that carry figures (or three columns or more).  A two- or
four-column table of labels and values (``发文机关 | X县人民政府``) becomes
``发文机关：X县人民政府`` lines; any other table keeps its cells joined by
`` | ``.  A row whose cells all repeat one text (a caption spanning the table)
becomes a plain line.  Every cell's text survives.

:func:`is_table_row` and :func:`split_row` let the chunker find the rows
again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path

from policyqa.corpus.layout import is_page_number

__all__ = ["TableConfig", "linearize_tables", "is_table_row", "split_row", "SEP", "KV"]

_DATA = Path(__file__).with_name("data") / "tables.json"
SEP = " | "  # between the cells of a row
KV = "："  # between a column name and a cell
_PROSE = re.compile(r"[。；;！？]|，.*，")
_DIGIT = re.compile(r"\d")
_SERIAL = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class TableConfig:
    """max_header_chars: longest cell of a header row; max_label_chars: longest
    label of a label/value table; min_text_rows: lines of a PDF text table
    (its header line included)."""

    max_header_chars: int = 16
    max_label_chars: int = 10
    min_text_rows: int = 3


def split_row(line: str) -> list[str]:
    """Cells of a linearized row."""
    return [c.strip() for c in line.split(SEP)]


def is_table_row(line: str) -> bool:
    """A line written by :func:`linearize_tables` (header or data row)."""
    return SEP in line


def _short_label(cell: str, limit: int) -> bool:
    return 0 < len(cell) <= limit and not _DIGIT.search(cell) and not _PROSE.search(cell)


def _render(rows: list[list[str]], cfg: TableConfig) -> list[str]:
    rows = [[c.strip() for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    out: list[str] = []
    # captions: leading rows whose cells all say one thing
    while rows and len({c for c in rows[0] if c}) == 1 and max(len(r) for r in rows) > 1 and len(rows) > 1:
        out.append(next(c for c in rows[0] if c))
        rows = rows[1:]
    width = max(len(r) for r in rows)
    first = rows[0]
    later = rows[1:]
    header_like = _header_like(first, cfg)
    figures_below = any(_DIGIT.search(c) for r in later for c in r)
    if later and header_like and (width >= 3 or figures_below) and not _label_value(rows, cfg):
        out.append(SEP.join(first))
        # a second header row under cells spanning several columns (奖励 over 工厂 | 车间)
        if len(later) > 1 and _header_like(later[0], cfg) and any(a == b and a for a, b in zip(first, first[1:])):
            sub = later[0]
            out.append(SEP.join(sub))
            first = [a if not b or a == b else f"{a}·{b}" for a, b in zip_longest(first, sub, fillvalue="")]
            later = later[1:]
        for r in later:
            if len({c for c in r if c}) == 1 and len(r) > 1 and sum(1 for c in r if c) > 1:
                out.append(next(c for c in r if c))  # a spanning row inside the table
                continue
            cells = []
            for name, cell in zip_longest(first, r, fillvalue=""):
                if cell:
                    cells.append(f"{name}{KV}{cell}" if name else cell)
            if cells:
                out.append(SEP.join(cells))
        return out
    if _label_value(rows, cfg):
        for r in rows:
            pairs = [f"{r[i]}{KV}{r[i + 1]}" if i + 1 < len(r) and r[i + 1] else r[i] for i in range(0, len(r), 2) if r[i]]
            out.append(SEP.join(pairs) if len(pairs) > 1 else (pairs[0] if pairs else ""))
        return [x for x in out if x]
    for r in rows:
        cells = [c for c in r if c]
        out.append(SEP.join(cells) if len(cells) > 1 else cells[0])
    return out


def _header_like(row: list[str], cfg: TableConfig) -> bool:
    return len(row) >= 2 and any(row) and all(_short_label(c, cfg.max_header_chars) or not c for c in row)


@lru_cache(maxsize=1)
def _metadata_labels() -> frozenset[str]:
    return frozenset(json.loads(_DATA.read_text(encoding="utf-8"))["metadata_labels"])


def _label_value(rows: list[list[str]], cfg: TableConfig) -> bool:
    """Rows of label/value pairs: even width, every even cell a short distinct
    label, and either most labels are known metadata labels (索引号, 成文日期 …)
    or the first row is not a header over figures."""
    if any(len(r) % 2 for r in rows) or len(rows) < 1:
        return False
    labels = [r[i] for r in rows for i in range(0, len(r), 2)]
    values = [r[i] for r in rows for i in range(1, len(r), 2)]
    if not all(_short_label(x, cfg.max_label_chars) for x in labels) or len(set(labels)) != len(labels):
        return False
    known = sum(1 for x in labels if x.replace(" ", "") in _metadata_labels())
    if known * 2 >= len(labels):
        return True
    if len(rows) > 1 and _header_like(rows[0], cfg) and any(_DIGIT.search(c) for r in rows[1:] for c in r):
        return False  # 级别 | 金额 over 国家级 | 100万元: a header row
    return any(not _short_label(v, cfg.max_label_chars) for v in values if v)


# possessive runs: a long run of spaces or dashes that fails is scanned once, not once per way to split it
_MD_DELIMITER = re.compile(r"^\s*+\|?\s*+:?-{3,}+:?\s*+(?:\|\s*+:?-{3,}+:?\s*+)*+\|?\s*+$")


def _pipe_cells(line: str) -> list[str] | None:
    """The cells of a Markdown pipe row (``| a | b |`` or ``a | b``), None for a line without a pipe."""
    s = line.strip()
    if "|" not in s:
        return None
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", s)]


def _markdown_table(lines: list[str], i: int) -> int:
    """Lines of a Markdown pipe table starting at line ``i`` (a header row, its delimiter row of
    dashes, then pipe rows); 0 when there is none."""
    if i + 1 >= len(lines) or _pipe_cells(lines[i]) is None or not _MD_DELIMITER.match(lines[i + 1]) or "|" not in lines[i + 1]:
        return 0
    n = 2
    while i + n < len(lines) and lines[i + n].strip() and _pipe_cells(lines[i + n]) is not None:
        n += 1
    return n


def _tab_cells(line: str) -> list[str] | None:
    s = line.strip()
    if "\t" not in s:
        return None
    return s.split("\t")


def _text_table(lines: list[str], i: int, cfg: TableConfig) -> int:
    """Rows of a PDF text table starting at line ``i`` (a header line of short
    labels, then lines that have as many space-separated fields and begin with a
    serial number, or whose fields are all short and carry a figure:
    「第一档 首次突破5亿元 20万元」); 0 when there is none."""
    head = lines[i].split()
    if len(head) < 2 or not all(_short_label(h, 8) for h in head):
        return 0
    n = 1
    while i + n < len(lines):
        s = lines[i + n].strip()
        fields = s.split()
        if len(fields) != len(head) or _PROSE.search(s):
            break
        if not (_SERIAL.match(fields[0]) or (_DIGIT.search(s) and all(len(f) <= cfg.max_header_chars for f in fields)
                                               and not is_page_number(s))):
            break
        n += 1
    return n if n >= cfg.min_text_rows else 0


def linearize_tables(text: str, config: TableConfig = TableConfig()) -> str:
    """``text`` with every table rewritten as described in the module docstring.

    Lines outside tables are returned unchanged, as is a lone line with a tab
    that is not a label/value pair (a stray tab in prose).
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        cells = _tab_cells(lines[i])
        if cells is not None:
            block = []
            start = i
            while i < len(lines) and (c := _tab_cells(lines[i])) is not None:
                block.append(c)
                i += 1
            if len(block) == 1 and not _label_value(block, config):
                out.append(lines[start])  # a stray tab in a line of prose, not a table
                continue
            out.extend(_render(block, config))
            continue
        n = _markdown_table(lines, i)
        if n:  # its delimiter row of dashes dropped
            out.extend(_render([_pipe_cells(ln) for ln in [lines[i], *lines[i + 2 : i + n]]], config))
            i += n
            continue
        n = _text_table(lines, i, config)
        if n:
            out.extend(_render([ln.split() for ln in lines[i : i + n]], config))
            i += n
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)
