"""Documents parsed and chunked before they reach the index (no index imports: the upload worker uses it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.corpus.types import Chunk, Document, Skipped

__all__ = ["Parsed", "parse_files"]


@dataclass(frozen=True)
class Parsed:
    """Documents read, cleaned and chunked, ready for :meth:`KnowledgeBase.add`.

    ``originals`` maps a document id to the file it was read from; those
    files are kept in the uploads folder when the document is added.
    """

    documents: tuple[Document, ...] = ()
    chunks: tuple[Chunk, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    originals: tuple[tuple[str, str], ...] = ()


def parse_files(paths: Sequence[str | Path], chunker: ChunkerConfig | None = None) -> Parsed:
    """Load and chunk files in this process (the CLI's parser; the web app runs it in a sandboxed worker)."""
    report = load_corpus(paths)
    chunks = chunk_documents(report.documents, chunker or ChunkerConfig())
    originals = []
    for d in report.documents:
        src = Path(d.meta.source) if d.meta.source else None
        if src is not None and src.name == d.doc_id and src.is_file():  # one document per file (not .jsonl records)
            originals.append((d.doc_id, str(src)))
    return Parsed(report.documents, tuple(chunks), report.skipped, tuple(originals))
