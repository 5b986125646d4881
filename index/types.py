"""Interfaces and result types of the index stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from policyqa.corpus.types import Chunk


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (shape [n, dim]).

    Queries and documents are encoded separately because model families use
    different prompts for them (e5: ``query: `` / ``passage: ``).
    """

    name: str  # model name or path, recorded in the index manifest
    backend: str  # e.g. "torch", "onnx", "onnx-int8", "fake"
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class Filters:
    """Search filters; empty fields do not filter.

    ``region`` matches a document whose region contains it or is contained in
    it (江苏省 matches 江苏省宿迁市; 亭湖区 matches 江苏省盐城市亭湖区).
    ``years`` is an inclusive (first, last) range tested against the document
    date's year or, when present, its stated policy period.
    """

    region: str = ""
    doc_ids: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    years: tuple[int, int] | None = None

    def is_empty(self) -> bool:
        return not (self.region or self.doc_ids or self.doc_types or self.years)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score and each retriever's view.

    ``rank`` is 1-based.  ``dense_rank``/``sparse_rank`` are None when that
    retriever did not return the chunk within its candidate list.
    """

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    dense_rank: int | None = None
    sparse_score: float | None = None
    sparse_rank: int | None = None
