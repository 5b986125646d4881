"""政策问答 web app: a Gradio chat and an HTTP API on one port.

``python app.py`` (or ``policyqa serve``) serves the built-in knowledge base:
the first start builds the index (progress printed), later starts load it.

* ``create_app(kb, settings)`` -> a FastAPI app with ``/api/ask``,
  ``/api/health``, ``/api/feedback``, ``/api/documents`` and the Gradio UI at
  ``/``; tests build it over a tiny in-memory knowledge base.
* ``serve(host, port, index)`` opens the knowledge base and runs uvicorn.

The app calls only :class:`policyqa.qa.service.KnowledgeBase` methods
(``answer``, ``documents``, ``add``, ``remove``).  Everything shown in HTML is
escaped here (``esc_html``), whatever the composer already did, so text from
documents and questions is always inert.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import contextlib
import dataclasses
import hashlib
import json
import re
import shutil
import socket
import sys
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from fastapi import Request

_T_START = time.monotonic()

MAX_UPLOAD_BYTES = 20_000_000
UPLOAD_TYPES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_QUESTION_CHARS = 10_000  # longer bodies are bad input; the answerer itself politely refuses >2000
MAX_HISTORY_TURNS = 50
MAX_COMMENT_CHARS = 2000
VERDICTS = ("up", "down")

EXAMPLES = (
    "亭湖区企业买工业机器人有补贴吗",
    "评上国家级专精特新小巨人，宿迁给多少钱？",
    "那省级的呢？",
    "申报省级示范智能车间需要什么条件",
    "宿州评上小巨人奖多少",
    "漯河小升规企业第四年奖励多少",
)


# =============================================================================
# escaping and rendering (pure functions)
# =============================================================================

_HTML_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
             "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;"}
_HTML_RE = re.compile("[&<>\"'`${}\\[\\]]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~$])")


def esc_html(text: Any) -> str:
    """Escape text for HTML element content and attribute values.

    Besides ``& < > " '`` it escapes `` ` $ { } [ ]`` so that no template
    engine (Gradio's HTML templates, KaTeX) or Markdown link syntax can treat
    document text as code.
    """
    return _HTML_RE.sub(lambda m: _HTML_ESC[m.group(0)], str(text if text is not None else ""))


def esc_md(text: Any) -> str:
    """Escape text for Markdown: renders literally, never a link, image or tag."""
    text = str(text if text is not None else "").replace("&", "&amp;")
    return _MD_SPECIAL.sub(r"\\\1", text)


_SUP = re.compile(r"<sup>\[(\d{1,3})\]</sup>")
_RAW_LT = re.compile(r"(?<!\\)<")


def inert_markdown(md: str) -> str:
    """Answer Markdown with any stray raw ``<`` neutralised.

    The composer escapes document text already; this is a second line of
    defence: the only raw tags kept are its citation marks ``<sup>[n]</sup>``.
    """
    keep: list[str] = []

    def hold(m: re.Match) -> str:
        keep.append(m.group(1))
        return f"\x00{len(keep) - 1}\x00"

    out = _SUP.sub(hold, md)
    out = _RAW_LT.sub("&lt;", out)
    out = re.sub(r"(?i)javascript:", "javascript&#58;", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: f"<sup>[{keep[int(m.group(1))]}]</sup>", out)


def cite_link(turn: int, n: int | str) -> str:
    """The chat's [n] mark: a link to source card ``pqa-src-<turn>-<n>``."""
    return f'<sup><a class="pqa-cite" href="#pqa-src-{int(turn)}-{int(n)}">[{int(n)}]</a></sup>'


def source_title(c: dict) -> str:
    title = f"《{c.get('title')}》" if c.get("title") else str(c.get("doc_id", ""))
    return title + (f"（{c['doc_number']}）" if c.get("doc_number") else "")


def chat_message(a: dict, turn: int) -> str:
    """The assistant's chat message (Markdown with a few escaped HTML callouts).

    ``a`` is :func:`answer_view` of an Answer.  Refusals, region notes and
    expired-policy notes become coloured callouts; citation marks link to the
    sources panel; the long source list stays in the panel.
    """
    parts: list[str] = []
    if a["resolved_question"] and a["resolved_question"].strip() != a["question"].strip():
        parts.append(f'<div class="pqa-resolved">理解为：{esc_html(a["resolved_question"])}</div>')
    if a["refused"]:
        cls = "pqa-invalid" if a["kind"] == "invalid" else "pqa-refusal"
        icon = "💬" if a["kind"] == "invalid" else "🚫"
        lines = [esc_html(x) for x in a["text"].split("\n")]
        parts.append(f'<div class="pqa-callout {cls}">{icon} ' + "<br>".join(lines) + "</div>")
        return "\n\n".join(parts)
    body = inert_markdown(a["markdown"])
    cut = body.find("**来源**")
    if cut >= 0:
        body = body[:cut]
    blocks = [b for b in body.split("\n\n") if b.strip()]
    if a["region_note"] and blocks:
        blocks = blocks[1:]  # the lead paragraph is the region note; shown as a callout instead
        parts.append(f'<div class="pqa-callout pqa-region">📍 {esc_html(a["region_note"])}</div>')
    for b in blocks:
        if b.lstrip().startswith(">"):
            continue  # validity notes: rendered below as callouts
        parts.append(_SUP.sub(lambda m: cite_link(turn, m.group(1)), b))
    for note in a["notes"]:
        parts.append(f'<div class="pqa-callout pqa-expired">⚠️ {esc_html(note)}</div>')
    if a["citations"]:
        refs = " ".join(f'<a class="pqa-ref" href="#pqa-src-{turn}-{c["n"]}">[{c["n"]}] {esc_html(source_title(c))}</a>'
                        for c in a["citations"])
        parts.append(f'<div class="pqa-refs">来源：{refs}</div>')
    return "\n\n".join(parts)


def stream_units(message: str) -> list[str]:
    """Prefixes of ``message`` to show one after another (line by line, long lines by sentence)."""
    out: list[str] = []
    lines = message.split("\n")
    done = ""
    for i, line in enumerate(lines):
        sep = "\n" if i < len(lines) - 1 else ""
        if line.startswith("<") or len(line) < 60:
            done += line + sep
            out.append(done)
            continue
        pieces = re.split(r"(?<=[。；！？])", line)
        acc = ""
        for p in pieces:
            if not p:
                continue
            acc += p
            out.append(done + acc)
        done += line + sep
        if not out or out[-1] != done:
            out.append(done)
    return [u for j, u in enumerate(out) if u.strip() and (j == 0 or u != out[j - 1])] or [message]


def _spans(passage: str, quote: str) -> list[tuple[int, int]]:
    """Where the quoted sentence(s) stand in the passage (merged, sorted)."""
    if not passage or not quote:
        return []
    spans: list[tuple[int, int]] = []
    i = passage.find(quote)
    if i >= 0:
        return [(i, i + len(quote))]
    pieces = re.split(r"(?<=[。；;！？!?])|\s+\d{1,2}\.\s+", quote)
    for p in pieces:
        p = (p or "").strip()
        if len(p) < 4:
            continue
        j = passage.find(p)
        if j < 0 and len(p) > 12:
            p = p.rstrip("。；;！？!?")
            j = passage.find(p)
        if j >= 0:
            spans.append((j, j + len(p)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(passage: str, quote: str) -> str:
    """The passage as escaped HTML with the supporting sentence(s) in ``<mark>``."""
    out, pos = [], 0
    for s, e in _spans(passage, quote):
        out.append(esc_html(passage[pos:s]))
        out.append(f"<mark>{esc_html(passage[s:e])}</mark>")
        pos = e
    out.append(esc_html(passage[pos:]))
    return "".join(out).replace("\n", "<br>")


def source_card(c: dict, turn: int, open_: bool) -> str:
    meta = [("发文机关", c.get("issuer")), ("日期", c.get("date")), ("地区", c.get("region")), ("章节", c.get("section"))]
    rows = "".join(f'<div class="pqa-meta"><span>{k}</span>{esc_html(v)}</div>' for k, v in meta if v)
    passage = c.get("passage") or c.get("text") or ""
    return (
        f'<details class="pqa-src" id="pqa-src-{int(turn)}-{int(c["n"])}"{" open" if open_ else ""}>'
        f'<summary><b>[{int(c["n"])}]</b> {esc_html(source_title(c))}</summary>'
        f'{rows}<div class="pqa-passage">{highlight(passage, c.get("text", ""))}</div>'
        f'<div class="pqa-docid">文档：{esc_html(c.get("doc_id", ""))}</div></details>'
    )


def sources_html(turns: Sequence[dict]) -> str:
    """The sources panel: every turn's citations, newest first (its cards open)."""
    if not turns:
        return '<div class="pqa-sources-empty">提问后，这里显示每条回答引用的原文出处，支持句以高亮标出。</div>'
    out = []
    last = len(turns)
    for t in range(last, 0, -1):
        turn = turns[t - 1]
        cites = turn["answer"]["citations"]
        head = f'<div class="pqa-turn-head">第{t}问：{esc_html(turn["question"])}</div>'
        body = "".join(source_card(c, t, t == last) for c in cites) or '<div class="pqa-none">（本问没有引用来源）</div>'
        out.append(f'<section class="pqa-turn">{head}{body}</section>')
    return "".join(out)


def answer_view(a) -> dict:
    """Everything the UI keeps of an Answer (plain data; citations include passages)."""
    return {
        "question": a.question,
        "resolved_question": a.resolved_question,
        "text": a.text,
        "markdown": a.markdown,
        "refused": bool(a.refused),
        "kind": a.kind,
        "region_note": a.region_note,
        "notes": list(a.notes),
        "citations": [dataclasses.asdict(c) for c in a.citations],
        "json": a.to_json(),
    }


def region_choices(docs) -> list[str]:
    """Province, city and full regions of the documents (for the region filter)."""
    out: set[str] = set()
    for m in docs:
        if m.province:
            out.add(m.province)
        if m.province and m.city and m.city != m.province:
            out.add(m.province + m.city)
        if m.region:
            out.add(m.region)
    return sorted(out)


def doc_label(m) -> str:
    title = m.title or "(无标题)"
    return f"{title[:40]}{'…' if len(title) > 40 else ''} [{m.doc_id}]"


DOC_COLUMNS = ["文档ID", "标题", "发文机关", "日期", "文号", "地区", "类型", "有效期"]


def doc_rows(docs) -> list[list[str]]:
    return [list(m.summary().values()) for m in docs]


# =============================================================================
# uploads: validation by content, safe names, nothing half-added
# =============================================================================


class UploadError(ValueError):
    """A refused upload; ``str(e)`` is the message shown in the page."""


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
        raise UploadError(f"文件名「{name or '(空)'}」没有扩展名；支持 {'、'.join(UPLOAD_TYPES)}")
    clean = lambda s: re.sub(r"_+", "_", "".join(ch if (ch.isalnum() or ch in "-_.()（）") else "_" for ch in s))
    stem = clean(stem).strip("._- ") or "upload"
    ext = clean(ext).strip("._- ").lower()
    if not ext:
        raise UploadError(f"文件名「{name}」的扩展名无效；支持 {'、'.join(UPLOAD_TYPES)}")
    stem = stem[: max(1, max_len - len(ext) - 1)]
    return f"{stem}.{ext}"


def sniff(data: bytes, ext: str) -> str:
    """Check that the bytes really are what the extension says; return the kind.

    PDF: ``%PDF-`` header; DOCX: a zip holding ``word/document.xml``; text
    (.txt .md .html .htm): decodes as text (no binary).  Raises UploadError.
    """
    ext = ext.lower()
    if ext not in UPLOAD_TYPES:
        raise UploadError(f"不支持的文件类型 {ext or '(无扩展名)'}；支持 {'、'.join(UPLOAD_TYPES)}")
    if not data:
        raise UploadError("文件是空的")
    if ext == ".pdf":
        if b"%PDF-" not in data[:1024]:
            raise UploadError("文件扩展名是 .pdf，但内容不是 PDF（缺少 %PDF 文件头）")
        return "pdf"
    if ext == ".docx":
        if not data.startswith(b"PK\x03\x04"):
            raise UploadError("文件扩展名是 .docx，但内容不是 Word 文档（不是 zip 格式）")
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" not in z.namelist():
                    raise UploadError("文件是 zip 压缩包，但不是 Word 文档（缺少 word/document.xml）")
        except zipfile.BadZipFile:
            raise UploadError("文件扩展名是 .docx，但 zip 结构已损坏") from None
        return "docx"
    if data.startswith(b"%PDF-") or data.startswith(b"PK\x03\x04"):
        raise UploadError(f"文件扩展名是 {ext}，但内容是 {'PDF' if data.startswith(b'%PDF') else 'zip/Office'} 文件")
    from policyqa.corpus.readers import LoadError, decode_bytes

    try:
        decode_bytes(data, f"upload{ext}")
    except LoadError as e:
        raise UploadError(f"文件扩展名是 {ext}，但内容不是可读的文本（{e.problem}）") from None
    return ext.lstrip(".")


def _text_sha256(path: Path) -> tuple[str, str]:
    """(doc_id, sha256 of the cleaned text) as the index would record it; UploadError when unreadable."""
    from policyqa.corpus.pipeline import load_corpus

    report = load_corpus([path])
    if not report.documents:
        reason = "; ".join(s.reason for s in report.skipped) or "no text"
        raise UploadError(f"无法读取文件：{reason}")
    d = report.documents[0]
    return d.doc_id, hashlib.sha256(d.text.encode("utf-8")).hexdigest()


# =============================================================================
# the service the UI and the API share
# =============================================================================


class RWLock:
    """Many readers (answers) or one writer (add/remove); writers are not starved."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextlib.contextmanager
    def read(self):
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def write(self):
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class FeedbackLog:
    """Appends one JSON line per feedback to ``path``; thread-safe, flushed and fsynced."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())

    def count(self) -> int:
        with self._lock:
            try:
                with open(self.path, "rb") as f:
                    return sum(1 for line in f if line.strip())
            except FileNotFoundError:
                return 0


def feedback_record(question: str, resolved_question: str, answer: str, citations: list, verdict: str, comment: str) -> dict:
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "question": question,
        "resolved_question": resolved_question,
        "answer": answer,
        "citations": citations,
        "verdict": verdict,
        "comment": comment,
    }


@dataclass(frozen=True)
class UploadResult:
    ok: bool
    message: str  # plain text, shown escaped
    doc_id: str = ""
    replaced: bool = False
    needs_confirmation: bool = False


class Service:
    """What the UI and the HTTP API do, over one :class:`KnowledgeBase`.

    Args:
        kb: the knowledge base (``answer``, ``documents``, ``add``, ``remove``).
        settings: where feedback and uploads go.
        max_upload_bytes: upload size cap.
    """

    def __init__(self, kb, settings, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.kb = kb
        self.settings = settings
        self.max_upload_bytes = max_upload_bytes
        self.feedback = FeedbackLog(settings.feedback_path)
        self.lock = RWLock()
        self._upload_lock = threading.Lock()
        self._warm_lock = threading.Lock()  # held while the model warms; first answers wait instead of loading it twice
        self._warm = False

    # -- answers --------------------------------------------------------------

    def ask(self, question: str, history=None, region: str = "", doc_ids: Sequence[str] = (), top_k: int | None = None):
        from policyqa.index.types import Filters

        filters = Filters(region=region or "", doc_ids=tuple(doc_ids or ()))
        if not self._warm:
            with self._warm_lock:
                pass
        with self.lock.read():
            return self.kb.answer(question, history=history or None, filters=filters, top_k=top_k)

    def documents(self):
        with self.lock.read():
            return list(self.kb.documents())

    def health(self) -> dict:
        with self.lock.read():
            docs = self.kb.documents()
            chunks = self.kb.stats()["chunks"]
        return {"status": "ok", "documents": len(docs), "chunks": int(chunks)}

    def _content_hashes(self) -> dict[str, str]:
        return self.kb.content_hashes()

    def warm(self, question: str = "工业机器人补贴") -> float:
        """Answer one question now so the embedding model is loaded before users ask; returns seconds."""
        t = time.monotonic()
        with self._warm_lock:
            with self.lock.read():
                self.kb.answer(question)
            self._warm = True
        return time.monotonic() - t

    # -- documents ------------------------------------------------------------

    def add_upload(self, src: str | os.PathLike, name: str | None = None, replace: bool = False) -> UploadResult:
        """Validate an uploaded file and add it to the knowledge base.

        Order: size cap -> extension and content sniffing -> safe name ->
        readable text -> duplicate content (refused) -> same name (replaced
        only when ``replace``) -> copy into ``uploads_dir`` -> add.  A failed
        add deletes the copy (and restores a replaced upload); nothing is
        half-added.
        """
        try:
            return self._add_upload(Path(src), name or Path(str(src)).name, replace)
        except UploadError as e:
            return UploadResult(False, str(e))

    def _add_upload(self, src: Path, name: str, replace: bool) -> UploadResult:
        try:
            size = src.stat().st_size
        except OSError:
            raise UploadError("上传的文件不见了，请重新上传") from None
        if size > self.max_upload_bytes:
            raise UploadError(f"文件太大（{size / 1e6:.1f} MB），上限 {self.max_upload_bytes / 1e6:g} MB")
        safe = safe_filename(name)
        ext = "." + safe.rsplit(".", 1)[-1]
        with open(src, "rb") as f:
            data = f.read(self.max_upload_bytes + 1)
        if len(data) > self.max_upload_bytes:
            raise UploadError(f"文件太大，上限 {self.max_upload_bytes / 1e6:g} MB")
        sniff(data, ext)
        with self._upload_lock:
            staging = self.settings.uploads_dir / ".staging"
            staging.mkdir(parents=True, exist_ok=True)
            probe = staging / safe
            try:
                shutil.copyfile(src, probe)
                doc_id, sha = _text_sha256(probe)
            finally:
                probe.unlink(missing_ok=True)
            hashes = self._content_hashes()
            existing = {m.doc_id for m in self.documents()}
            same = sorted(d for d, h in hashes.items() if h == sha)
            if same:
                who = "同一文档" if same == [doc_id] else f"「{same[0]}」"
                raise UploadError(f"重复文档：内容与知识库中已有的{who}相同，未添加")
            if doc_id in existing and not replace:
                return UploadResult(False, f"知识库中已有同名文档「{doc_id}」但内容不同。勾选「替换同名文档」后再添加即可替换它。",
                                    doc_id, needs_confirmation=True)
            return self._copy_and_add(src, doc_id, doc_id in existing)

    def _copy_and_add(self, src: Path, doc_id: str, replacing: bool) -> UploadResult:
        dest = self.settings.uploads_dir / doc_id
        backup = dest.with_name("." + doc_id + ".bak")
        had_old = dest.exists()
        if had_old:
            os.replace(dest, backup)
        ok = False
        try:
            shutil.copyfile(src, dest)
            with self.lock.write():
                report = self.kb.add([dest])
            if not (report.added or report.replaced):
                reasons = "; ".join(s.reason for s in report.skipped) or "没有可添加的内容"
                return UploadResult(False, f"添加失败：{reasons}", doc_id)
            ok = True
        except UploadError:
            raise
        except Exception as e:  # never half-added: report, roll back the copy (and a new doc the index kept)
            if not replacing and doc_id in {m.doc_id for m in self.documents()}:
                with contextlib.suppress(Exception), self.lock.write():
                    self.kb.remove(doc_id)
            return UploadResult(False, f"添加失败：{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", doc_id)
        finally:
            if not ok:
                dest.unlink(missing_ok=True)
                if had_old:
                    os.replace(backup, dest)
            elif had_old:
                backup.unlink(missing_ok=True)
        n = report.chunks_embedded
        verb = "已替换" if replacing else "已添加"
        return UploadResult(True, f"{verb}文档「{doc_id}」（新嵌入 {n} 个段落）。", doc_id, replaced=replacing)

    def remove(self, doc_id: str) -> UploadResult:
        if not doc_id:
            return UploadResult(False, "请先选择要删除的文档")
        try:
            with self.lock.write():
                n = self.kb.remove(doc_id)
        except KeyError:
            return UploadResult(False, f"知识库中没有文档「{doc_id}」", doc_id)
        except Exception as e:
            return UploadResult(False, f"删除失败：{type(e).__name__}: {e}", doc_id)
        copy = self.settings.uploads_dir / doc_id
        if copy.is_file() and copy.resolve().parent == self.settings.uploads_dir.resolve():
            copy.unlink(missing_ok=True)
        return UploadResult(True, f"已删除文档「{doc_id}」（{n} 个段落）。", doc_id)

    # -- feedback ---------------------------------------------------------------

    def record_feedback(self, record: dict) -> None:
        self.feedback.append(record)


# =============================================================================
# HTTP API
# =============================================================================


class BadRequest(ValueError):
    pass


def parse_ask(body: Any, known_docs: set[str] | None = None) -> dict:
    """Validate a ``POST /api/ask`` body; return ``Service.ask`` kwargs or raise BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    allowed = {"question", "history", "region", "doc", "top_k"}
    extra = sorted(set(body) - allowed)
    if extra:
        raise BadRequest(f"unknown field(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    q = body.get("question")
    if not isinstance(q, str) or not q.strip():
        raise BadRequest("'question' must be a non-empty string")
    if len(q) > MAX_QUESTION_CHARS:
        raise BadRequest(f"'question' is longer than {MAX_QUESTION_CHARS} characters")
    history = body.get("history")
    if history is not None:
        if not isinstance(history, list) or len(history) > MAX_HISTORY_TURNS:
            raise BadRequest(f"'history' must be a list of at most {MAX_HISTORY_TURNS} turns")
        for t in history:
            if not isinstance(t, dict) or not isinstance(t.get("question"), str) \
                    or any(not isinstance(t.get(k, ""), str) for k in ("answer", "resolved_question")):
                raise BadRequest("each 'history' turn must be an object {\"question\": str, \"answer\"?: str, \"resolved_question\"?: str}")
        history = [{"question": t["question"], "answer": t.get("answer", ""), "resolved_question": t.get("resolved_question", "")}
                   for t in history]
    region = body.get("region") or ""
    if not isinstance(region, str):
        raise BadRequest("'region' must be a string")
    doc = body.get("doc")
    if doc is None:
        docs: list[str] = []
    elif isinstance(doc, str):
        docs = [doc]
    elif isinstance(doc, list) and all(isinstance(d, str) for d in doc):
        docs = list(doc)
    else:
        raise BadRequest("'doc' must be a document id or a list of ids")
    if known_docs is not None:
        unknown = [d for d in docs if d not in known_docs]
        if unknown:
            raise BadRequest(f"unknown document id(s): {', '.join(unknown)}")
    top_k = body.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50):
        raise BadRequest("'top_k' must be an integer between 1 and 50")
    return {"question": q, "history": history, "region": region, "doc_ids": docs, "top_k": top_k}


def parse_feedback(body: Any) -> dict:
    """Validate a ``POST /api/feedback`` body; return the record to append."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    allowed = {"question", "resolved_question", "answer", "citations", "verdict", "comment"}
    extra = sorted(set(body) - allowed)
    if extra:
        raise BadRequest(f"unknown field(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    q = body.get("question")
    if not isinstance(q, str) or not q.strip() or len(q) > MAX_QUESTION_CHARS:
        raise BadRequest("'question' must be a non-empty string")
    verdict = body.get("verdict")
    if verdict not in VERDICTS:
        raise BadRequest("'verdict' must be \"up\" or \"down\"")
    for k in ("resolved_question", "answer", "comment"):
        if not isinstance(body.get(k, ""), str):
            raise BadRequest(f"'{k}' must be a string")
    comment = body.get("comment", "")
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadRequest(f"'comment' is longer than {MAX_COMMENT_CHARS} characters")
    cites = body.get("citations", [])
    if not isinstance(cites, list) or len(cites) > 50:
        raise BadRequest("'citations' must be a list")
    return feedback_record(q, body.get("resolved_question", ""), body.get("answer", "")[:20000], cites, verdict, comment)


def add_api_routes(app, service: Service) -> None:
    from fastapi.responses import JSONResponse

    def bad(msg: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": msg}, status_code=status)

    async def read_json(request: Request):
        raw = await request.body()
        if not raw.strip():
            raise BadRequest("empty body; send a JSON object")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BadRequest(f"body is not valid JSON ({e.__class__.__name__})") from None

    @app.post("/api/ask")
    async def api_ask(request: Request):
        """Answer one question: same JSON object as `policyqa ask --json`."""
        try:
            body = await read_json(request)
            kw = parse_ask(body, {m.doc_id for m in service.documents()})
        except BadRequest as e:
            return bad(str(e))
        from starlette.concurrency import run_in_threadpool

        a = await run_in_threadpool(service.ask, **kw)
        return JSONResponse(a.to_json())

    @app.get("/api/health")
    def api_health():
        return service.health()

    @app.get("/api/documents")
    def api_documents():
        return [m.summary() for m in service.documents()]

    @app.post("/api/feedback")
    async def api_feedback(request: Request):
        try:
            record = parse_feedback(await read_json(request))
        except BadRequest as e:
            return bad(str(e))
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(service.record_feedback, record)
        return {"status": "ok"}


# =============================================================================
# Gradio UI
# =============================================================================

CSS = """
#pqa-title h1 {margin-bottom: 0}
.pqa-callout {border-left: 5px solid; border-radius: 6px; padding: 8px 12px; margin: 6px 0;}
.pqa-refusal {background: #fdecea; border-color: #d93025; color: #5f2120;}
.pqa-invalid {background: #eef3fb; border-color: #5b7bd5; color: #1f3a73;}
.pqa-region {background: #fff4e5; border-color: #f29900; color: #663c00;}
.pqa-expired {background: #fff8c5; border-color: #bf8700; color: #4d3800;}
.pqa-resolved {color: #5f6368; font-size: 0.9em; font-style: italic; margin-bottom: 4px;}
.pqa-refs {font-size: 0.9em; color: #5f6368;}
.pqa-refs a, a.pqa-cite {text-decoration: none; cursor: pointer;}
#pqa-sources {max-height: 640px; overflow-y: auto;}
.pqa-turn {margin-bottom: 10px;}
.pqa-turn-head {font-weight: 600; margin: 6px 0; color: #3c4043;}
details.pqa-src {border: 1px solid #dadce0; border-radius: 6px; padding: 6px 10px; margin: 6px 0; background: var(--block-background-fill);}
details.pqa-src summary {cursor: pointer;}
details.pqa-src.pqa-flash {outline: 3px solid #f29900;}
.pqa-meta {font-size: 0.85em; color: #5f6368;}
.pqa-meta span {display: inline-block; min-width: 4.5em; color: #80868b;}
.pqa-passage {margin-top: 6px; line-height: 1.6; white-space: normal;}
.pqa-passage mark {background: #fde68a; color: inherit; padding: 0 1px;}
.pqa-docid {font-size: 0.75em; color: #9aa0a6; margin-top: 4px;}
.pqa-status-ok {color: #137333;}
.pqa-status-err {color: #c5221f; font-weight: 600;}
"""

# Runs once on page load: citation links open and scroll to their source card.
PAGE_JS = """
() => {
  if (window.__pqaCites) return;
  window.__pqaCites = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[href^="#pqa-src-"]');
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const el = document.getElementById(a.getAttribute('href').slice(1));
    if (!el) return;
    el.open = true;
    el.scrollIntoView({block: 'center', behavior: 'smooth'});
    el.classList.add('pqa-flash');
    setTimeout(() => el.classList.remove('pqa-flash'), 1600);
  }, true);
}
"""

# Copies the plain-text answer: Clipboard API, then a hidden-textarea fallback.
COPY_JS = """
async (text) => {
  window.__pqaCopied = null;
  if (!text) return "还没有可复制的回答";
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (e) { ok = false; }
  if (!ok) {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
  }
  window.__pqaCopied = ok ? text : null;
  return ok ? "已复制到剪贴板 ✓" : "浏览器不允许自动复制，请在下方文本框中选中后复制";
}
"""


@dataclass(frozen=True)
class ChatStep:
    chat: list  # Chatbot messages [{"role", "content"}]
    turns: list  # answered turns [{"question", "answer": answer_view}]
    done: bool = False
    copy_text: str = ""


def history_of(turns: Sequence[dict]) -> list[dict]:
    """The conversation history ``answer()`` takes, from the UI's turns (invalid turns left out)."""
    return [{"question": t["question"], "answer": t["answer"]["text"], "resolved_question": t["answer"]["resolved_question"]}
            for t in turns if t["answer"]["kind"] != "invalid"]


def converse(service: "Service", question: str, chat: Sequence[dict] | None, turns: Sequence[dict] | None,
             region: str = "", doc_ids: Sequence[str] = (), delay: float = 0.03):
    """One chat turn as a stream of :class:`ChatStep`: the question, then the answer growing
    sentence by sentence, then the final step (``done``) with the plain text to copy.

    Inputs are not mutated; follow-ups get the earlier turns as history.
    """
    question = (question or "").strip()
    chat = [dict(m) for m in (chat or [])]
    turns = list(turns or [])
    if not question:
        yield ChatStep(chat, turns, True, turns[-1]["answer"]["text"] if turns else "")
        return
    chat.append({"role": "user", "content": esc_md(question)})
    chat.append({"role": "assistant", "content": "…"})
    yield ChatStep(list(chat), turns)
    a = service.ask(question, history_of(turns), region or "", doc_ids or ())
    view = answer_view(a)
    turns = turns + [{"question": question, "answer": view}]
    message = chat_message(view, len(turns))
    for unit in stream_units(message)[:-1]:
        chat[-1] = {"role": "assistant", "content": unit}
        yield ChatStep(list(chat), turns)
        if delay:
            time.sleep(delay)
    chat[-1] = {"role": "assistant", "content": message}
    yield ChatStep(list(chat), turns, True, view["text"])


def feedback_for_last(service: "Service", turns: Sequence[dict], verdict: str, comment: str = "") -> tuple[bool, str]:
    """Record 👍/👎 (and an optional comment) for the latest answer; returns (ok, message)."""
    if not turns:
        return False, "还没有可评价的回答"
    if verdict not in VERDICTS:
        return False, "未知的评价"
    last = turns[-1]["answer"]
    service.record_feedback(feedback_record(last["question"], last["resolved_question"], last["text"],
                                            last["json"]["citations"], verdict, (comment or "").strip()[:MAX_COMMENT_CHARS]))
    return True, "已记录您的反馈，谢谢！" + ("👍" if verdict == "up" else "👎")


def _status(msg: str, ok: bool) -> str:
    cls = "pqa-status-ok" if ok else "pqa-status-err"
    return f'<div class="{cls}">{esc_html(msg)}</div>'


def build_ui(service: Service):
    """The Gradio Blocks: a chat tab and a knowledge-base tab."""
    import gradio as gr

    def choices():
        docs = service.documents()
        regions = [("全部地区", "")] + [(r, r) for r in region_choices(docs)]
        doc_opts = [(doc_label(m), m.doc_id) for m in docs]
        return docs, regions, doc_opts

    def respond(question, chat, turns, region, doc_ids):
        for step in converse(service, question, chat, turns, region, doc_ids):
            if step.done:
                yield step.chat, "", step.turns, sources_html(step.turns), step.copy_text, ""
            else:
                yield step.chat, "", step.turns, gr.skip(), gr.skip(), ""

    def new_chat():
        return [], "", [], sources_html([]), "", "", "", "（已开始新对话）"

    def give_feedback(verdict, comment, turns):
        ok, msg = feedback_for_last(service, turns, verdict, comment)
        return ("" if ok else comment), _status(msg, ok)

    def kb_refresh():
        docs, regions, doc_opts = choices()
        ids = [m.doc_id for m in docs]
        return (doc_rows(docs), gr.update(choices=regions), gr.update(choices=doc_opts),
                gr.update(choices=ids, value=None), f"共 {len(docs)} 篇文档")

    def upload(file, replace):
        if not file:
            return (_status("请先选择要上传的文件", False), gr.skip(), *kb_refresh())
        path = file if isinstance(file, str) else getattr(file, "name", str(file))
        res = service.add_upload(path, Path(path).name, bool(replace))
        return (_status(res.message, res.ok), None if res.ok else gr.skip(), *kb_refresh())

    def remove(doc_id, confirm):
        if not doc_id:
            return (_status("请先选择要删除的文档", False), gr.skip(), *kb_refresh())
        if not confirm:
            return (_status(f"删除「{doc_id}」前请勾选「确认删除」", False), gr.skip(), *kb_refresh())
        res = service.remove(doc_id)
        return (_status(res.message, res.ok), False, *kb_refresh())

    docs, regions, doc_opts = choices()
    with gr.Blocks(title="政策问答") as demo:
        gr.Markdown("# 政策问答\n根据知识库中的政策文件回答，每句都标出处；找不到依据时如实说明。", elem_id="pqa-title")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                turns = gr.State([])
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="对话", elem_id="pqa-chat", height=520, latex_delimiters=[],
                                          feedback_options=None, buttons=[], sanitize_html=True,
                                          placeholder="请在下方输入问题，或点击示例问题。")
                        with gr.Row():
                            question = gr.Textbox(label="问题", placeholder="例如：亭湖区企业买工业机器人有补贴吗", scale=5,
                                                  elem_id="pqa-question", max_lines=4, autofocus=True)
                            send = gr.Button("提问", variant="primary", scale=1, elem_id="pqa-send")
                        gr.Markdown("**示例问题**（点击即问）")
                        with gr.Row():
                            example_btns = [gr.Button(q, size="sm", elem_classes=["pqa-example"]) for q in EXAMPLES]
                        with gr.Row():
                            new_btn = gr.Button("新对话", elem_id="pqa-new")
                            copy_btn = gr.Button("复制答案", elem_id="pqa-copy-btn")
                            copy_status = gr.Markdown("", elem_id="pqa-copy-status")
                        copy_box = gr.Textbox(label="答案纯文本（可选中复制）", interactive=False, lines=6, max_lines=20,
                                              elem_id="pqa-copy")
                        with gr.Row():
                            comment = gr.Textbox(label="反馈意见（可选）", placeholder="这条回答哪里好或不好？", scale=4,
                                                 elem_id="pqa-comment")
                            up = gr.Button("👍 有帮助", scale=1, elem_id="pqa-up")
                            down = gr.Button("👎 没帮助", scale=1, elem_id="pqa-down")
                        fb_status = gr.HTML("", elem_id="pqa-feedback-status")
                    with gr.Column(scale=2):
                        region = gr.Dropdown(choices=regions, value="", label="地区筛选", elem_id="pqa-region")
                        doc_filter = gr.Dropdown(choices=doc_opts, value=[], multiselect=True, label="只在这些文档中查找",
                                                 elem_id="pqa-docs")
                        gr.Markdown("**来源**（点击回答中的 [n] 跳到对应原文）")
                        sources = gr.HTML(sources_html([]), elem_id="pqa-sources")
            with gr.Tab("知识库", id="kb"):
                with gr.Row():
                    with gr.Column():
                        gr.Markdown(f"**添加文档**：{'、'.join(UPLOAD_TYPES)}，不超过 {MAX_UPLOAD_BYTES // 1_000_000} MB；"
                                    "文件名就是文档ID。")
                        file = gr.File(label="选择文件", file_count="single", type="filepath", elem_id="pqa-upload",
                                       file_types=list(UPLOAD_TYPES), height=140)
                        with gr.Row():
                            replace = gr.Checkbox(label="替换同名文档", value=False, elem_id="pqa-replace")
                            add_btn = gr.Button("添加到知识库", variant="primary", elem_id="pqa-add")
                    with gr.Column():
                        gr.Markdown("**删除文档**")
                        remove_id = gr.Dropdown(choices=[m.doc_id for m in docs], value=None, label="文档ID",
                                                elem_id="pqa-remove-id")
                        with gr.Row():
                            confirm = gr.Checkbox(label="确认删除", value=False, elem_id="pqa-remove-confirm")
                            remove_btn = gr.Button("删除", variant="stop", elem_id="pqa-remove")
                kb_status = gr.HTML("", elem_id="pqa-kb-status")
                kb_count = gr.Markdown(f"共 {len(docs)} 篇文档", elem_id="pqa-kb-count")
                table = gr.Dataframe(value=doc_rows(docs), headers=DOC_COLUMNS, interactive=False, wrap=True,
                                     elem_id="pqa-doc-table")

        ask_out = [chat, question, turns, sources, copy_box, copy_status]
        ask_in = [question, chat, turns, region, doc_filter]
        send.click(respond, ask_in, ask_out, api_visibility="private")
        question.submit(respond, ask_in, ask_out, api_visibility="private")
        for b, q in zip(example_btns, EXAMPLES):
            b.click(lambda q=q: q, None, question, api_visibility="private", queue=False).then(
                respond, ask_in, ask_out, api_visibility="private")
        chat.clear(new_chat, None, [chat, question, turns, sources, copy_box, comment, fb_status, copy_status],
                   api_visibility="private", queue=False)
        new_btn.click(new_chat, None, [chat, question, turns, sources, copy_box, comment, fb_status, copy_status],
                      api_visibility="private", queue=False)
        copy_btn.click(None, copy_box, copy_status, js=COPY_JS, api_visibility="private")
        up.click(lambda c, t: give_feedback("up", c, t), [comment, turns], [comment, fb_status], api_visibility="private")
        down.click(lambda c, t: give_feedback("down", c, t), [comment, turns], [comment, fb_status], api_visibility="private")
        kb_out = [table, region, doc_filter, remove_id, kb_count]
        add_btn.click(upload, [file, replace], [kb_status, file, *kb_out], api_visibility="private",
                      concurrency_limit=1, concurrency_id="kb-write")
        remove_btn.click(remove, [remove_id, confirm], [kb_status, confirm, *kb_out], api_visibility="private",
                         concurrency_limit=1, concurrency_id="kb-write")
        demo.load(kb_refresh, None, kb_out, api_visibility="private", queue=False)

        def ask(question: str, history_json: str = "[]", region: str = "", doc: str = "") -> dict:
            """Answer a question; returns the `policyqa ask --json` object.

            history_json: JSON list of earlier {"question", "answer", "resolved_question"} turns.
            doc: a document id (optional).
            """
            try:
                body = {"question": question, "history": json.loads(history_json or "[]"), "region": region or ""}
                if doc:
                    body["doc"] = doc
                kw = parse_ask(body, {m.doc_id for m in service.documents()})
            except (BadRequest, json.JSONDecodeError) as e:
                raise gr.Error(str(e))
            return service.ask(**kw).to_json()

        gr.api(ask, api_name="ask")
    return demo


# =============================================================================
# app and server
# =============================================================================


def create_app(kb, settings, concurrency: int | None = None, ui: bool = True):
    """The FastAPI app: HTTP API under /api and the Gradio UI at /.

    Args:
        kb: an open :class:`KnowledgeBase`.
        settings: :class:`Settings` (feedback and upload paths).
        concurrency: answers computed at once by the UI queue (default
            ``$POLICYQA_CONCURRENCY`` or 4; the HTTP API uses the thread pool).
        ui: mount the Gradio UI (False: the HTTP API only, no gradio import).
    """
    from fastapi import FastAPI

    service = Service(kb, settings)
    app = FastAPI(title="政策问答 API", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.service = service
    add_api_routes(app, service)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    if not ui:
        return app
    import gradio as gr

    demo = build_ui(service)
    limit = concurrency or int(os.environ.get("POLICYQA_CONCURRENCY", "4"))
    demo.queue(default_concurrency_limit=limit, max_size=256)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, js=PAGE_JS, footer_links=["api"],
                               max_file_size=MAX_UPLOAD_BYTES + 1_000_000, run_history=False,
                               show_error=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def warm(service: Service) -> None:
    """Load the embedding model (and tokenizer) now so the first real answer is quick."""
    try:
        print(f"embedding model ready ({service.warm():.1f} s)", flush=True)
    except Exception as e:  # warming is best effort
        print(f"warm-up failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


def serve(host: str = "127.0.0.1", port: int = 7860, index: str | None = None) -> int:
    """Open the knowledge base (building it on first start) and serve until Ctrl-C."""
    import uvicorn

    from policyqa.index.store import IndexStoreError
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    if not 0 < port < 65536:
        print(f"invalid port {port}", file=sys.stderr)
        return 2
    if not _port_free(host, port):
        print(f"port {port} on {host} is already in use; choose another with --port", file=sys.stderr)
        return 1
    # gradio's import (~4 s) overlaps with loading the index
    preload = threading.Thread(target=lambda: __import__("gradio"), name="import-gradio", daemon=True)
    preload.start()
    settings = Settings.from_env(index_dir=index)
    first = settings.backend == "inprocess" and not (Path(settings.index_dir) / "manifest.json").exists()
    if first:
        print(f"first start: building the index of the built-in documents in {settings.index_dir} "
              "(about a minute on a laptop CPU) ...", flush=True)
    else:
        print(f"loading the index {settings.index_label} ...", flush=True)
    try:
        kb = KnowledgeBase.open(settings, build_if_missing=True, progress=True)
    except (IndexStoreError, ValueError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 1
    preload.join()
    app = create_app(kb, settings)
    service: Service = app.state.service
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)

    def announce():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            print(f"政策问答 is running at http://{shown}:{port}/  (API: /api/ask, /api/health; "
                  f"ready in {time.monotonic() - _T_START:.1f} s; Ctrl-C to stop)", flush=True)
            warm(service)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="政策问答 web app and HTTP API")
    p.add_argument("--host", default=os.environ.get("POLICYQA_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("POLICYQA_PORT", "7860")))
    p.add_argument("--index", help="index directory (default: $POLICYQA_INDEX or $POLICYQA_HOME/index)")
    args = p.parse_args(argv)
    return serve(args.host, args.port, args.index)


if __name__ == "__main__":
    sys.exit(main())
