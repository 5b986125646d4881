"""The corpus stage end to end: files -> cleaned Documents -> Chunks.

``load_corpus(paths)`` reads files (``readers``), cleans them (``clean``),
extracts metadata (``metadata``) and returns a :class:`LoadReport`;
``chunk_documents`` splits documents (``chunk``).  Nothing here knows about
indexes or answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from policyqa.corpus.chunk import ChunkerConfig, chunk_document
from policyqa.corpus.clean import prepare, strip_debris
from policyqa.corpus.metadata import extract_metadata
from policyqa.corpus.readers import DEFAULT_MAX_BYTES, RawDoc, read_paths
from policyqa.corpus.types import Chunk, Document, DocMeta, LoadReport, Skipped
from policyqa.corpus.versions import link_versions

__all__ = ["builtin_corpus_dir", "document_from_raw", "load_corpus", "chunk_documents", "write_jsonl", "iter_jsonl"]


def builtin_corpus_dir() -> Path:
    """The built-in knowledge base shipped with the package."""
    return Path(__file__).with_name("documents")


def document_from_raw(raw: RawDoc) -> Document:
    """Clean one raw document and extract its metadata.

    Metadata given explicitly by the source (a .jsonl record's ``title`` or
    other fields, a Markdown file's ``# heading``) wins over what is extracted
    from the text; a web page's <title> or a file's title property is only a
    fallback for a text that states no title of its own.
    """
    prepared = prepare(raw.text)
    meta = extract_metadata(raw.doc_id, prepared, source=raw.source, title_hint=raw.title)
    extra = {k: v for k, v in (raw.meta or {}).items() if k in DocMeta.__dataclass_fields__ and k != "doc_id" and v}
    if raw.title and raw.fmt in ("jsonl", "md"):
        extra["title"] = raw.title
    if extra:
        d = meta.to_dict()
        d.update(extra)
        meta = DocMeta.from_dict(d)
    return Document(meta=meta, text=strip_debris(prepared))


def load_corpus(paths: Iterable[str | Path] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadReport:
    """Load files and folders (default: the built-in knowledge base).

    Unreadable, empty, unsupported or corrupt files are reported in
    ``LoadReport.skipped`` (one line each); the rest still load.  Version
    links (``supersedes``/``superseded_by``) are derived within the loaded set.
    """
    paths = [Path(p) for p in (paths or [builtin_corpus_dir()])]
    raws, skipped = read_paths(paths, max_bytes=max_bytes)
    docs: list[Document] = []
    skipped = list(skipped)
    for raw in raws:
        doc = document_from_raw(raw)
        if not doc.text.strip():
            skipped.append(Skipped(raw.source or raw.doc_id, f"skipped '{raw.doc_id}': no text left after removing page debris"))
            continue
        docs.append(doc)
    # version links within the loaded set (an index re-derives them over all its documents)
    metas = link_versions([d.meta for d in docs])
    docs = [d if d.meta is m else Document(meta=m, text=d.text) for d, m in zip(docs, metas)]
    return LoadReport(documents=tuple(docs), skipped=tuple(skipped))


def chunk_documents(docs: Sequence[Document], config: ChunkerConfig | None = None) -> list[Chunk]:
    out: list[Chunk] = []
    for d in docs:
        out.extend(chunk_document(d, config))
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def iter_jsonl(path: str | Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
