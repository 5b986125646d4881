"""Corpus stage: load files, clean text, extract metadata, chunk.

>>> from policyqa.corpus import load_corpus, chunk_documents
>>> report = load_corpus()            # the built-in knowledge base
>>> chunks = chunk_documents(report.documents)
"""

from policyqa.corpus.chunk import ChunkerConfig, chunk_document
from policyqa.corpus.clean import clean_text, normalize_query
from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, document_from_raw, load_corpus
from policyqa.corpus.types import Chunk, DocMeta, Document, LoadReport, Period, Skipped

__all__ = [
    "Chunk", "ChunkerConfig", "DocMeta", "Document", "LoadReport", "Period", "Skipped",
    "builtin_corpus_dir", "chunk_document", "chunk_documents", "clean_text", "document_from_raw",
    "load_corpus", "normalize_query",
]
