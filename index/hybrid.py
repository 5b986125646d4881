"""Hybrid retrieval: BM25 and dense candidates, filtered by document metadata, fused.

``HybridRetriever(dense, sparse, chunks, docs, config)`` follows pyserini's
``HybridSearcher(dense, sparse)``: each retriever returns its own candidate
list (``config.candidates`` per query), candidates whose document fails the
:class:`Filters` are dropped, and the remaining lists are fused with
:func:`policyqa.index.fusion.rrf` or :func:`policyqa.index.fusion.minmax`.

Defaults come from the measurements in
``/work/shared/notes/default-embedding-model.md`` (65 paraphrased questions,
five seed documents): hybrid beats either retriever alone because BM25 and e5
fail on different questions; RRF with k=5 gave the best R@5 (0.97, R@1 0.71),
min-max with weights 0.3 (BM25) / 0.7 (dense) the best R@1 (0.74, R@5 0.95).
The default is RRF k=5 because the answer composer reads several passages, so
recall in the top five matters most.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from policyqa.corpus.clean import normalize_query
from policyqa.corpus.jurisdiction import region_matches
from policyqa.corpus.types import Chunk, DocMeta
from policyqa.index.bm25 import BM25Index
from policyqa.index.dense import DenseIndex
from policyqa.index.fusion import minmax, rrf
from policyqa.index.types import Embedder, Filters, Hit

__all__ = [
    "MODES",
    "FUSIONS",
    "RetrievalConfig",
    "DenseRetriever",
    "BM25Retriever",
    "HybridRetriever",
    "doc_matches",
    "fuse",
]

MODES = ("bm25", "dense", "hybrid")
FUSIONS = ("rrf", "minmax")
DEFAULT_WEIGHTS = {"rrf": (1.0, 1.0), "minmax": (0.3, 0.7)}

Scored = list[tuple[str, float]]


@dataclass(frozen=True)
class RetrievalConfig:
    """How queries are answered from the indexes.

    Attributes:
        mode: ``"hybrid"`` (BM25 + dense, fused), ``"bm25"`` or ``"dense"``.
        fusion: ``"rrf"`` (reciprocal rank fusion) or ``"minmax"`` (weighted
            sum of min-max normalised scores); used in hybrid mode only.
        rrf_k: RRF rank offset; 5 trusts the top of each list (measured best
            R@5 0.97), 60 is the classic default.
        weights: (sparse, dense) fusion weights; ``None`` means (1.0, 1.0) for
            RRF and (0.3, 0.7) for min-max (measured best R@1 0.74).
        candidates: how many candidates each retriever returns per query.
        filter_candidates: candidates per retriever when filters are active,
            so that filtered results are still the true top k (covers every
            chunk of an index this size or smaller).
    """

    mode: str = "hybrid"
    fusion: str = "rrf"
    rrf_k: int = 5
    weights: tuple[float, float] | None = None
    candidates: int = 50
    filter_candidates: int = 5000

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.fusion!r}; choose one of {', '.join(FUSIONS)}")
        if self.rrf_k <= 0:
            raise ValueError(f"rrf_k must be positive, got {self.rrf_k}")
        if self.candidates <= 0 or self.filter_candidates <= 0:
            raise ValueError("candidates and filter_candidates must be positive")
        if self.weights is not None:
            w = tuple(float(x) for x in self.weights)
            if len(w) != 2 or min(w) < 0 or sum(w) <= 0:
                raise ValueError(f"weights must be two non-negative numbers (sparse, dense), got {self.weights!r}")
            object.__setattr__(self, "weights", w)

    def fusion_weights(self) -> tuple[float, float]:
        """(sparse, dense) weights actually used by the configured fusion."""
        return self.weights if self.weights is not None else DEFAULT_WEIGHTS[self.fusion]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["weights"] = list(self.weights) if self.weights is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RetrievalConfig":
        known = set(cls.__dataclass_fields__)
        kw = {k: v for k, v in d.items() if k in known}
        if kw.get("weights") is not None:
            kw["weights"] = tuple(kw["weights"])
        return cls(**kw)


class DenseRetriever:
    """Encodes queries with ``embedder.encode_queries`` and searches a :class:`DenseIndex`.

    ``embedder`` may be an :class:`Embedder` or a zero-argument callable that
    creates one; the callable runs on the first search (models load slowly).
    The last ``cache_size`` query vectors are kept (:meth:`query_vectors`), so
    the answer stage reuses the vector retrieval computed instead of
    embedding the question again.
    """

    def __init__(self, embedder: Union[Embedder, Callable[[], Embedder]], dense_index: DenseIndex, cache_size: int = 256) -> None:
        self._embedder = embedder
        self.index = dense_index
        self.cache_size = cache_size
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._cache_lock = threading.Lock()

    def query_vectors(self, queries: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors of ``queries`` (normalised like search does), cached (LRU)."""
        keys = [normalize_query(q) for q in queries]
        with self._cache_lock:
            todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        if todo:
            vecs = np.asarray(self.embedder.encode_queries(todo), dtype=np.float32)
            with self._cache_lock:
                for k, v in zip(todo, vecs):
                    self._cache[k] = v
                    self._cache.move_to_end(k)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        with self._cache_lock:
            out = []
            for k in keys:
                v = self._cache.get(k)
                if v is None:  # evicted meanwhile by another thread
                    v = np.asarray(self.embedder.encode_queries([k]), dtype=np.float32)[0]
                out.append(v)
        return np.stack(out) if out else np.zeros((0, self.embedder.dim), dtype=np.float32)

    @property
    def embedder(self) -> Embedder:
        if not isinstance(self._embedder, Embedder):
            self._embedder = self._embedder()
            if self._embedder.dim != self.index.dim:
                raise ValueError(
                    f"embedder {self._embedder.name!r} makes {self._embedder.dim}-d vectors "
                    f"but the index holds {self.index.dim}-d vectors"
                )
        return self._embedder

    def batch_search(self, queries: Sequence[str], k: int) -> list[Scored]:
        if not queries:
            return []
        return self.index.batch_search(self.query_vectors(queries), k)


class BM25Retriever:
    """Keyword search over a :class:`BM25Index`."""

    def __init__(self, bm25_index: BM25Index) -> None:
        self.index = bm25_index

    def batch_search(self, queries: Sequence[str], k: int) -> list[Scored]:
        return self.index.batch_search(list(queries), k)


# --- filters -------------------------------------------------------------------

_YEAR = re.compile(r"(\d{4})")


def _doc_years(meta: DocMeta) -> list[tuple[float, float]]:
    """Year ranges a document is about: its date's year and its policy period."""
    spans: list[tuple[float, float]] = []
    m = _YEAR.match(meta.date or "")
    date_year = int(m.group(1)) if m else None
    if date_year:
        spans.append((date_year, date_year))
    p = meta.period
    if p is not None and (p.start or p.end):
        start = p.start or date_year or p.end  # 到2020年: from the document's date
        end = p.end or p.start
        spans.append((min(start, end), max(start, end)))
    return spans


def doc_matches(meta: DocMeta, filters: Filters) -> bool:
    """True when a document passes every non-empty field of ``filters``.

    region: :func:`policyqa.corpus.jurisdiction.region_matches` — national
    documents, documents whose jurisdiction contains the region and documents
    covering a part of it (亭湖区 ~ 江苏省盐城市亭湖区, 江苏省 ~ 江苏省徐州市); doc_ids/doc_types:
    membership; years: the inclusive range overlaps the document date's year
    or its policy period.  A document lacking the filtered field fails.
    """
    if filters.doc_ids and meta.doc_id not in filters.doc_ids:
        return False
    if filters.doc_types and meta.doc_type not in filters.doc_types:
        return False
    if filters.region and not region_matches(meta, filters.region.strip()):
        return False
    if filters.years:
        lo, hi = sorted(filters.years)
        if not any(s <= hi and e >= lo for s, e in _doc_years(meta)):
            return False
    return True


# --- hybrid --------------------------------------------------------------------


class HybridRetriever:
    """Searches chunks with BM25, dense vectors or both, fused per ``config``.

    Args:
        dense: dense retriever, required for modes "dense" and "hybrid".
        sparse: BM25 retriever, required for modes "bm25" and "hybrid".
        chunks: chunk id -> :class:`Chunk`; index entries missing here are skipped.
        docs: doc id -> :class:`DocMeta`, used by filters.
        config: :class:`RetrievalConfig`.
    """

    def __init__(
        self,
        dense: DenseRetriever | None,
        sparse: BM25Retriever | None,
        chunks: Mapping[str, Chunk],
        docs: Mapping[str, DocMeta],
        config: RetrievalConfig = RetrievalConfig(),
    ) -> None:
        if config.mode in ("dense", "hybrid") and dense is None:
            raise ValueError(f"retrieval mode {config.mode!r} needs a dense retriever")
        if config.mode in ("bm25", "hybrid") and sparse is None:
            raise ValueError(f"retrieval mode {config.mode!r} needs a BM25 retriever")
        self.dense = dense
        self.sparse = sparse
        self.chunks = chunks
        self.docs = docs
        self.config = config
        self._by_doc: dict[str, list[Chunk]] | None = None

    def _allowed(self, filters: Filters | None) -> set[str] | None:
        if filters is None or filters.is_empty():
            return None
        ok_docs = {d for d, meta in self.docs.items() if doc_matches(meta, filters)}
        return {cid for cid, c in self.chunks.items() if c.doc_id in ok_docs}

    def batch_search(self, queries: Sequence[str], k: int = 10, filters: Filters | None = None) -> list[list[Hit]]:
        """Top ``k`` hits per query (rank 1 = best).

        Each retriever's score/rank on a hit is its rank among the candidates
        that pass the filters.  Blank queries give no hits.
        """
        if isinstance(queries, str):
            raise TypeError("batch_search takes a list of queries; use search(q) for one")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        allowed = self._allowed(filters)
        live = [i for i, q in enumerate(queries) if q and q.strip()]
        results: list[list[Hit]] = [[] for _ in queries]
        if not live or k == 0 or allowed == set():
            return results
        cfg = self.config
        pool = cfg.candidates if allowed is None else min(len(self.chunks), cfg.filter_candidates)
        pool = max(pool, k)
        texts = [queries[i] for i in live]
        use_sparse = cfg.mode in ("bm25", "hybrid")
        use_dense = cfg.mode in ("dense", "hybrid")
        sparse_lists = self.sparse.batch_search(texts, pool) if use_sparse else [[] for _ in texts]
        dense_lists = self.dense.batch_search(texts, pool) if use_dense else [[] for _ in texts]

        def keep(lst: Scored) -> Scored:
            return [(cid, s) for cid, s in lst if cid in self.chunks and (allowed is None or cid in allowed)]

        for qi, sp, de in zip(live, sparse_lists, dense_lists):
            results[qi] = [Hit(chunk=self.chunks[cid], score=score, rank=rank, dense_score=ds, dense_rank=dr,
                               sparse_score=ss, sparse_rank=sr)
                           for cid, score, rank, ss, sr, ds, dr in fuse(cfg, keep(sp), keep(de), k)]
        return results

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return self.batch_search([query], k, filters)[0]

    # --- chunk look-ups (the answer stage's only way to read chunks besides hits) ---

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that exist (missing ids are left out)."""
        return {cid: self.chunks[cid] for cid in chunk_ids if cid in self.chunks}

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, in document order (by ``start``)."""
        if self._by_doc is None:
            by_doc: dict[str, list[Chunk]] = {}
            for c in self.chunks.values():
                by_doc.setdefault(c.doc_id, []).append(c)
            self._by_doc = {d: sorted(v, key=lambda c: (c.start, c.chunk_id)) for d, v in by_doc.items()}
        return list(self._by_doc.get(doc_id, ()))


def fuse(config: RetrievalConfig, sparse: Scored, dense: Scored, k: int) -> list[tuple]:
    """Fuse one query's (already filtered) candidate lists per ``config``; top ``k``.

    Returns ``(chunk_id, score, rank, sparse_score, sparse_rank, dense_score,
    dense_rank)`` tuples, rank 1 first; a retriever's score/rank is None when
    the chunk is not in its list.  Shared by every backend, so fused rankings
    are computed by the same code whatever engine produced the lists.
    """
    if config.mode == "bm25":
        fused = list(sparse)
    elif config.mode == "dense":
        fused = list(dense)
    elif config.fusion == "rrf":
        fused = rrf([[c for c, _ in sparse], [c for c, _ in dense]], k=config.rrf_k, weights=config.fusion_weights())
    else:
        fused = minmax([sparse, dense], weights=config.fusion_weights())
    sp_info = {cid: (s, r) for r, (cid, s) in enumerate(sparse, 1)}
    de_info = {cid: (s, r) for r, (cid, s) in enumerate(dense, 1)}
    out = []
    for rank, (cid, score) in enumerate(fused[:k], 1):
        ss, sr = sp_info.get(cid, (None, None))
        ds, dr = de_info.get(cid, (None, None))
        out.append((cid, float(score), rank, ss, sr, ds, dr))
    return out
