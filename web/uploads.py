"""Uploads that cannot take the server down: limits checked while streaming, parsing in a sandboxed worker.

An uploaded file goes through :class:`UploadDesk`:

1. a safe name (the document id), a supported extension, the size (``stat``)
   and the first bytes (``%PDF-``, a zip for .docx, no PDF/zip under a text
   extension) — cheap checks in the server process;
2. a private copy in ``uploads/.staging/`` (the web framework's temp file is
   removed by the caller after each request);
3. parsing in a **separate process** (``python -m policyqa.web.parse_worker``)
   under ``resource.setrlimit`` limits on CPU time and address space, at low
   priority, killed after ``wall_seconds``.  Before parsing, the worker
   streams every part of a .docx through zlib and expat, counting the
   decompressed bytes and XML elements, and stops at the first limit — a
   zip bomb is refused after reading at most ``max_unpacked_bytes``, whatever
   its header claims;
4. duplicate content (refused) and the same name (replaced only when asked);
5. :meth:`KnowledgeBase.add` with the parsed documents — it takes the index
   lock only for its save and swap, so answers continue throughout.

Every refusal is an :class:`UploadError` carrying a :class:`Problem`; the
one-line Chinese message is rendered from it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["UPLOAD_TYPES", "UploadLimits", "Problem", "UploadError", "UploadResult", "UploadDesk",
           "safe_filename", "sniff_head", "check_docx", "check_file", "parse_isolated", "parse_in_process"]

UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
_TEXT_TYPES = (".txt", ".md", ".html", ".htm")


@dataclass(frozen=True)
class UploadLimits:
    """Limits every uploaded file is held to.

    Args:
        max_bytes: the file itself.
        max_unpacked_bytes: all parts of a .docx together, decompressed
            (counted while streaming; the zip's own size fields are not trusted).
        max_xml_elements: elements in the XML parts of a .docx.
        max_zip_entries: parts in a .docx.
        max_text_chars: text extracted from any file.
        cpu_seconds: the worker's CPU time (``RLIMIT_CPU``).
        memory_bytes: the worker's address space (``RLIMIT_AS``).
        wall_seconds: the worker is killed after this long.
        max_files: files in one request.
    """

    max_bytes: int = 20_000_000
    max_unpacked_bytes: int = 40_000_000
    max_xml_elements: int = 2_000_000
    max_zip_entries: int = 1000
    max_text_chars: int = 5_000_000
    cpu_seconds: int = 60
    memory_bytes: int = 1_500_000_000
    wall_seconds: float = 120.0
    max_files: int = 20

    @classmethod
    def from_dict(cls, d: dict) -> "UploadLimits":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


class Problem(enum.Enum):
    """Why an upload was refused; the value is the message template (Chinese, one line)."""

    NO_NAME = "文件名「{name}」没有扩展名；支持 {types}"
    BAD_EXTENSION = "文件名「{name}」的扩展名无效；支持 {types}"
    BAD_TYPE = "不支持的文件类型 {ext}；支持 {types}"
    EMPTY = "文件是空的"
    TOO_BIG = "文件太大（{size_mb:.1f} MB），上限 {limit_mb:g} MB"
    GONE = "上传的文件不见了，请重新上传"
    TOO_MANY_FILES = "一次最多上传 {limit} 个文件"
    NOT_PDF = "文件扩展名是 .pdf，但内容不是 PDF（缺少 %PDF 文件头）"
    NOT_DOCX = "文件扩展名是 .docx，但内容不是 Word 文档（不是 zip 格式）"
    OLD_DOC = "文件扩展名是 .docx，但内容是旧版 Word (.doc) 文档；请另存为 .docx"
    CORRUPT_ZIP = "文件扩展名是 .docx，但 zip 结构已损坏"
    NO_DOCUMENT_XML = "文件是 zip 压缩包，但不是 Word 文档（缺少 word/document.xml）"
    TOO_MANY_PARTS = "Word 文档包含的部件过多（超过 {limit} 个），疑似恶意文件，未添加"
    UNPACKED_TOO_BIG = "Word 文档解压后超过 {limit_mb:g} MB，疑似压缩炸弹，未添加"
    TOO_MANY_ELEMENTS = "Word 文档的 XML 元素超过 {limit:,} 个，疑似恶意文件，未添加"
    XML_DTD = "Word 文档的 XML 含有 DTD/实体声明，出于安全原因未添加"
    BAD_XML = "Word 文档的 XML 已损坏（{detail}）"
    ENCRYPTED = "Word 文档已加密或受密码保护，无法读取"
    BINARY_AS_TEXT = "文件扩展名是 {ext}，但内容是 {kind} 文件"
    NOT_TEXT = "文件扩展名是 {ext}，但内容不是可读的文本（{detail}）"
    TEXT_TOO_LONG = "文件的文字超过 {limit:,} 个字符，未添加"
    UNREADABLE = "无法读取文件：{detail}"
    TIMEOUT = "解析文件超过 {limit:g} 秒，已停止，未添加"
    MEMORY = "解析文件所需内存超过 {limit_mb:g} MB，已停止，未添加"
    CPU = "解析文件的计算时间超过 {limit} 秒，已停止，未添加"
    WORKER_FAILED = "解析进程异常退出（{detail}），未添加"
    DUPLICATE_SELF = "重复文档：内容与知识库中已有的同一文档相同，未添加"
    DUPLICATE_OTHER = "重复文档：内容与知识库中已有的「{other}」相同，未添加"
    SAME_NAME = "知识库中已有同名文档「{doc_id}」但内容不同。勾选「替换同名文档」后再添加即可替换它。"
    ADD_FAILED = "添加失败：{detail}"


class UploadError(ValueError):
    """A refused upload; ``str(e)`` is the message shown in the page."""

    def __init__(self, problem: Problem, **details: Any) -> None:
        self.problem = problem
        self.details = details
        super().__init__(render(problem, details))


def render(problem: Problem, details: dict) -> str:
    d = {"types": "、".join(UPLOAD_TYPES), **details}
    try:
        return problem.value.format(**d)
    except (KeyError, ValueError, IndexError):
        return problem.value.split("{")[0].rstrip("（：，") or problem.name


@dataclass(frozen=True)
class UploadResult:
    ok: bool
    message: str  # plain text, shown escaped
    doc_id: str = ""
    replaced: bool = False
    needs_confirmation: bool = False
    problem: str = ""  # Problem name when refused
    file: str = ""  # the name the file was uploaded with

    def to_json(self) -> dict:
        return asdict(self)


# =============================================================================
# cheap checks (server process)
# =============================================================================


def safe_filename(name: str, max_len: int = 120) -> str:
    """A safe file name: no directories, no leading dots, CJK kept.

    Characters other than letters/digits (any script), ``-_.()（）`` become
    ``_``; the extension is lower-cased.  Raises :class:`UploadError` when
    nothing usable is left.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1].strip()
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext:
        raise UploadError(Problem.NO_NAME, name=name or "(空)")

    def clean(s: str) -> str:
        return re.sub(r"_+", "_", "".join(ch if (ch.isalnum() or ch in "-_.()（）") else "_" for ch in s))

    stem = clean(stem).strip("._- ") or "upload"
    ext = clean(ext).strip("._- ").lower()
    if not ext:
        raise UploadError(Problem.BAD_EXTENSION, name=name)
    stem = stem[: max(1, max_len - len(ext) - 1)]
    return f"{stem}.{ext}"


def sniff_head(head: bytes, ext: str) -> str:
    """Check the first bytes agree with the extension; return the kind (UploadError otherwise)."""
    ext = ext.lower()
    if ext not in UPLOAD_TYPES:
        raise UploadError(Problem.BAD_TYPE, ext=ext or "(无扩展名)")
    if not head:
        raise UploadError(Problem.EMPTY)
    if ext == ".pdf":
        if b"%PDF-" not in head[:1024]:
            raise UploadError(Problem.NOT_PDF)
        return "pdf"
    if ext == ".docx":
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise UploadError(Problem.OLD_DOC)
        if not head.startswith(b"PK\x03\x04"):
            raise UploadError(Problem.NOT_DOCX)
        return "docx"
    if head.startswith(b"%PDF-") or head.startswith(b"PK\x03\x04"):
        raise UploadError(Problem.BINARY_AS_TEXT, ext=ext, kind="PDF" if head.startswith(b"%PDF") else "zip/Office")
    return ext.lstrip(".")


# =============================================================================
# streaming checks (worker process)
# =============================================================================


class _TooMany(Exception):
    pass


def check_docx(path: Path, limits: UploadLimits) -> None:
    """Stream every part of a .docx, counting decompressed bytes and XML elements.

    Raises UploadError at the first limit passed, for DTD/entity declarations
    (billion-laughs style expansion) and for broken zip or XML.
    """
    import xml.parsers.expat

    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadError(Problem.CORRUPT_ZIP) from None
    with z:
        infos = z.infolist()
        if len(infos) > limits.max_zip_entries:
            raise UploadError(Problem.TOO_MANY_PARTS, limit=limits.max_zip_entries)
        names = {i.filename for i in infos}
        if "word/document.xml" not in names:
            if "EncryptedPackage" in names or any(n.lower().endswith("encryptioninfo") for n in names):
                raise UploadError(Problem.ENCRYPTED)
            raise UploadError(Problem.NO_DOCUMENT_XML)
        total = 0
        elements = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise UploadError(Problem.ENCRYPTED)
            is_xml = info.filename.endswith((".xml", ".rels"))
            parser = None
            if is_xml:
                parser = xml.parsers.expat.ParserCreate()

                def start(name, attrs):
                    nonlocal elements
                    elements += 1
                    if elements > limits.max_xml_elements:
                        raise _TooMany()

                def no_dtd(*_a):
                    raise UploadError(Problem.XML_DTD)

                parser.StartElementHandler = start
                parser.StartDoctypeDeclHandler = no_dtd
                parser.EntityDeclHandler = no_dtd
            try:
                with z.open(info) as f:
                    while True:
                        block = f.read(1 << 16)
                        if not block:
                            break
                        total += len(block)
                        if total > limits.max_unpacked_bytes:
                            raise UploadError(Problem.UNPACKED_TOO_BIG, limit_mb=limits.max_unpacked_bytes / 1e6)
                        if parser is not None:
                            parser.Parse(block, False)
                    if parser is not None:
                        parser.Parse(b"", True)
            except _TooMany:
                raise UploadError(Problem.TOO_MANY_ELEMENTS, limit=limits.max_xml_elements) from None
            except xml.parsers.expat.ExpatError as e:
                raise UploadError(Problem.BAD_XML, detail=f"{info.filename}: {xml.parsers.expat.ErrorString(e.code)}") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
                raise UploadError(Problem.CORRUPT_ZIP) from None


def check_file(path: Path, limits: UploadLimits) -> None:
    """The worker's checks before parsing (format-specific streaming checks)."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UploadError(Problem.TOO_BIG, size_mb=size / 1e6, limit_mb=limits.max_bytes / 1e6)
    with open(path, "rb") as f:
        head = f.read(1024)
    sniff_head(head, path.suffix)
    if path.suffix.lower() == ".docx":
        check_docx(path, limits)


def parse_checked(path: Path, limits: UploadLimits) -> dict:
    """Check and parse one file (run inside the worker): the JSON-able :class:`Parsed` of it."""
    from policyqa.qa.parsed import parse_files

    check_file(path, limits)
    parsed = parse_files([path])
    if not parsed.documents:
        reason = "; ".join(s.reason for s in parsed.skipped) or "没有文字"
        if path.suffix.lower() in _TEXT_TYPES:
            raise UploadError(Problem.NOT_TEXT, ext=path.suffix.lower(), detail=reason)
        raise UploadError(Problem.UNREADABLE, detail=reason)
    chars = sum(len(d.text) for d in parsed.documents)
    if chars > limits.max_text_chars:
        raise UploadError(Problem.TEXT_TOO_LONG, limit=limits.max_text_chars)
    return {
        "ok": True,
        "documents": [{"meta": d.meta.to_dict(), "text": d.text} for d in parsed.documents],
        "chunks": [c.to_dict() for c in parsed.chunks],
        "skipped": [asdict(s) for s in parsed.skipped],
        "originals": [list(o) for o in parsed.originals],
    }


# =============================================================================
# the sandboxed worker, seen from the server
# =============================================================================


def parse_isolated(path: Path, limits: UploadLimits):
    """Parse ``path`` in a worker process under ``limits``; returns a :class:`Parsed`.

    Raises UploadError for every refusal, a timeout (the worker is killed), a
    memory or CPU limit, or a crashed worker.
    """
    job = json.dumps({"path": str(path), "limits": asdict(limits)})
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.web.parse_worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True)
    try:
        out, err = proc.communicate(job.encode("utf-8"), timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise UploadError(Problem.TIMEOUT, limit=limits.wall_seconds) from None
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    if proc.returncode != 0 or not out.strip():
        rc = proc.returncode
        if rc == -signal.SIGXCPU:
            raise UploadError(Problem.CPU, limit=limits.cpu_seconds)
        if rc == -signal.SIGKILL:
            raise UploadError(Problem.MEMORY, limit_mb=limits.memory_bytes / 1e6)
        last = (err.decode("utf-8", "replace").strip().splitlines() or [f"exit status {rc}"])[-1][:200]
        raise UploadError(Problem.WORKER_FAILED, detail=last)
    try:
        res = json.loads(out.decode("utf-8"))
    except ValueError:
        raise UploadError(Problem.WORKER_FAILED, detail="unreadable result") from None
    if not res.get("ok"):
        try:
            problem = Problem[res.get("problem", "")]
        except KeyError:
            problem = Problem.WORKER_FAILED
        raise UploadError(problem, **(res.get("details") or {}))
    return parsed_from_json(res)


def parse_in_process(path: Path, limits: UploadLimits):
    """The same checks and parsing as the worker, in this process (tests; trusted input only)."""
    return parsed_from_json(parse_checked(Path(path), limits))


def parsed_from_json(res: dict):
    from policyqa.corpus.types import Chunk, DocMeta, Document, Skipped
    from policyqa.qa.parsed import Parsed

    docs = tuple(Document(DocMeta.from_dict(d["meta"]), d["text"]) for d in res["documents"])
    chunks = tuple(Chunk.from_dict(c) for c in res["chunks"])
    skipped = tuple(Skipped(**s) for s in res.get("skipped") or [])
    return Parsed(docs, chunks, skipped, tuple(tuple(o) for o in res.get("originals") or []))


# =============================================================================
# the desk: one upload from name to knowledge base
# =============================================================================


class UploadDesk:
    """Validates, parses (isolated) and adds uploaded files to a :class:`KnowledgeBase`.

    Args:
        kb: the knowledge base (``add``, ``documents``, ``content_hashes``, ``refresh``).
        staging_dir: where private copies wait while they are parsed.
        limits: :class:`UploadLimits`.
        parser: ``parser(path, limits) -> Parsed``; default :func:`parse_isolated`.
    """

    def __init__(self, kb, staging_dir: str | os.PathLike, limits: UploadLimits = UploadLimits(),
                 parser: Callable | None = None) -> None:
        self.kb = kb
        self.staging_dir = Path(staging_dir)
        self.limits = limits
        self.parser = parser or parse_isolated
        self._lock = threading.Lock()  # one upload at a time: duplicate checks see every earlier upload

    def add_files(self, files: Sequence[tuple[str | os.PathLike, str]], replace: bool = False) -> list[UploadResult]:
        """Add several ``(path, original name)`` files; one result per file, in order."""
        if len(files) > self.limits.max_files:
            msg = render(Problem.TOO_MANY_FILES, {"limit": self.limits.max_files})
            return [UploadResult(False, msg, problem=Problem.TOO_MANY_FILES.name, file=str(n)) for _, n in files]
        return [self.add_file(p, n, replace) for p, n in files]

    def add_file(self, src: str | os.PathLike, name: str | None = None, replace: bool = False) -> UploadResult:
        """Validate one file and add it; never raises for a bad file (the result says why)."""
        shown = name or Path(str(src)).name
        try:
            with self._lock:
                return self._add(Path(src), shown, replace)
        except UploadError as e:
            return UploadResult(False, str(e), e.details.get("doc_id", ""), problem=e.problem.name, file=shown,
                                needs_confirmation=e.problem is Problem.SAME_NAME)

    def _add(self, src: Path, name: str, replace: bool) -> UploadResult:
        safe = safe_filename(name)
        ext = "." + safe.rsplit(".", 1)[-1]
        if ext not in UPLOAD_TYPES:
            raise UploadError(Problem.BAD_TYPE, ext=ext)
        try:
            size = src.stat().st_size
            with open(src, "rb") as f:
                head = f.read(1024)
        except OSError:
            raise UploadError(Problem.GONE) from None
        if size > self.limits.max_bytes:
            raise UploadError(Problem.TOO_BIG, size_mb=size / 1e6, limit_mb=self.limits.max_bytes / 1e6)
        sniff_head(head, ext)
        stage = self.staging_dir / uuid.uuid4().hex
        try:
            stage.mkdir(parents=True)
            staged = stage / safe
            self._copy_capped(src, staged)
            parsed = self.parser(staged, self.limits)
            return self._commit(parsed, safe, replace, name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _copy_capped(self, src: Path, dest: Path) -> None:
        n = 0
        with open(src, "rb") as fi, open(dest, "wb") as fo:
            while block := fi.read(1 << 20):
                n += len(block)
                if n > self.limits.max_bytes:
                    raise UploadError(Problem.TOO_BIG, size_mb=n / 1e6, limit_mb=self.limits.max_bytes / 1e6)
                fo.write(block)

    def _commit(self, parsed, doc_id: str, replace: bool, name: str) -> UploadResult:
        self.kb.refresh()  # see documents another process added a moment ago
        doc = next((d for d in parsed.documents if d.doc_id == doc_id), parsed.documents[0])
        sha = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        same = sorted(d for d, h in self.kb.content_hashes().items() if h == sha)
        if same == [doc.doc_id]:
            raise UploadError(Problem.DUPLICATE_SELF, doc_id=doc.doc_id)
        if same:
            raise UploadError(Problem.DUPLICATE_OTHER, other=same[0], doc_id=doc.doc_id)
        existing = {m.doc_id for m in self.kb.documents()}
        if doc.doc_id in existing and not replace:
            raise UploadError(Problem.SAME_NAME, doc_id=doc.doc_id)
        try:
            report = self.kb.add(parsed=parsed)
        except Exception as e:  # the knowledge base changed nothing (its add is all or nothing)
            first = str(e).splitlines()[0] if str(e) else ""
            raise UploadError(Problem.ADD_FAILED, detail=f"{type(e).__name__}: {first}".rstrip(": "), doc_id=doc.doc_id) from None
        if not (report.added or report.replaced):
            reasons = "; ".join(s.reason for s in report.skipped) or "没有可添加的内容"
            raise UploadError(Problem.ADD_FAILED, detail=reasons, doc_id=doc.doc_id)
        replacing = doc.doc_id in report.replaced
        verb = "已替换" if replacing else "已添加"
        return UploadResult(True, f"{verb}文档「{doc.doc_id}」（新嵌入 {report.chunks_embedded} 个段落）。", doc.doc_id,
                            replaced=replacing, file=name)
