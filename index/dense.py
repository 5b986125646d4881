"""Vector index: FAISS inner product over L2-normalised vectors (cosine similarity).

The index keeps its own chunk-id list (FAISS row ``i`` is ``ids[i]``) and the
matrix of stored vectors, so removing chunks or switching index kind rebuilds
from stored vectors and never re-embeds.  No FAISS row number leaves this
module: searches return ``(chunk_id, score)`` pairs.

Index kinds:

* ``"flat"`` - ``IndexFlatIP``, exact; the default for small corpora.
* ``"hnsw"`` - ``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT``; approximate,
  ``hnsw_m`` links per node, ``ef_search`` candidates explored per query.
* ``"ivf"`` - ``IndexIVFFlat`` with ~sqrt(n) lists (at most n/39), ``nprobe`` = ``ivf_nprobe``.
* ``"auto"`` - flat below ``approx_threshold`` vectors, HNSW from there on.

Saved as ``faiss.index``, ``ids.txt`` (one chunk id per line) and
``vectors.npy`` in one directory.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["DenseIndex", "KINDS", "l2_normalize"]

KINDS = ("auto", "flat", "hnsw", "ivf")
INDEX_FILE = "faiss.index"
IDS_FILE = "ids.txt"
VECTORS_FILE = "vectors.npy"


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation into a new float32 array; zero rows stay zero."""
    v = np.array(vectors, dtype=np.float32, copy=True)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    np.divide(v, norms, out=v, where=norms > 0)
    return v


class DenseIndex:
    """FAISS index of chunk vectors addressed by chunk id.

    Args:
        dim: vector dimension.
        kind: ``"auto"`` | ``"flat"`` | ``"hnsw"`` | ``"ivf"`` (see module doc).
        approx_threshold: with ``kind="auto"``, use HNSW from this many vectors.
        hnsw_m: HNSW graph degree.
        ef_search: HNSW search breadth (higher = more exact, slower).
        ivf_nprobe: IVF lists probed per query.
    """

    def __init__(
        self,
        dim: int,
        kind: str = "auto",
        approx_threshold: int = 50_000,
        hnsw_m: int = 32,
        ef_search: int = 256,
        ivf_nprobe: int = 16,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown dense index kind {kind!r}; choose one of {', '.join(KINDS)}")
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = int(dim)
        self.kind = kind
        self.approx_threshold = approx_threshold
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self.ivf_nprobe = ivf_nprobe
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._faiss = None

    # --- state -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._pos

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def vectors(self, ids: Sequence[str] | None = None) -> np.ndarray:
        """A copy of the stored (normalised) vectors, all or for ``ids`` in that order."""
        if ids is None:
            return self._vectors.copy()
        try:
            rows = [self._pos[i] for i in ids]
        except KeyError as e:
            raise KeyError(f"chunk id {e.args[0]!r} is not in the dense index") from None
        return self._vectors[rows].copy()

    def resolved_kind(self) -> str:
        """The FAISS index kind actually used for the current number of vectors."""
        if self.kind != "auto":
            return self.kind
        return "hnsw" if len(self._ids) >= self.approx_threshold else "flat"

    # --- building ----------------------------------------------------------------

    def _rebuild(self) -> None:
        import faiss

        n = len(self._ids)
        kind = self.resolved_kind()
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = self.ef_search
        elif kind == "ivf" and n > 0:
            nlist = max(1, min(int(math.sqrt(n)), n // 39))  # faiss wants >= 39 points per list
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(self._vectors)
            index.nprobe = min(self.ivf_nprobe, nlist)
        else:
            index = faiss.IndexFlatIP(self.dim)
        if n:
            index.add(self._vectors)
        self._faiss = index

    def _set(self, ids: list[str], vectors: np.ndarray) -> None:
        self._ids = ids
        self._pos = {cid: i for i, cid in enumerate(ids)}
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._rebuild()

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors (normalised here); an id already present is replaced."""
        ids = list(ids)
        v = l2_normalize(np.asarray(vectors)) if len(ids) else np.zeros((0, self.dim), np.float32)
        if v.shape != (len(ids), self.dim):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dim}), got {tuple(np.shape(vectors))}")
        if len(set(ids)) != len(ids):
            raise ValueError("chunk ids passed to add() must be unique")
        for cid in ids:
            if not isinstance(cid, str) or not cid or "\n" in cid or "\r" in cid:
                raise ValueError(f"invalid chunk id {cid!r}: must be a non-empty one-line string")
        if not ids:
            return
        new = set(ids)
        if self._faiss is not None and not (new & self._pos.keys()) and self._appendable(len(self._ids) + len(ids)):
            self._append(ids, v)
            return
        keep = [i for i, cid in enumerate(self._ids) if cid not in new]
        self._set([self._ids[i] for i in keep] + ids, np.vstack([self._vectors[keep], v]))

    def _appendable(self, n_after: int) -> bool:
        """Whether new vectors can be added to the current FAISS index instead of rebuilding it."""
        kind = self.resolved_kind()
        after = self.kind if self.kind != "auto" else ("hnsw" if n_after >= self.approx_threshold else "flat")
        return kind == after and kind in ("flat", "hnsw")

    def _append(self, ids: list[str], v: np.ndarray) -> None:
        """Add vectors to a clone of the FAISS index (HNSW inserts only the new nodes).

        Copy-on-write: the current index object is never mutated, so a shallow
        copy of this DenseIndex (what the store changes while searches run)
        leaves the original searchable.
        """
        import faiss

        index = faiss.clone_index(self._faiss)
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = self.ef_search
        index.add(v)
        n0 = len(self._ids)
        self._vectors = np.ascontiguousarray(np.vstack([self._vectors, v]), dtype=np.float32)
        self._pos = {**self._pos, **{cid: n0 + i for i, cid in enumerate(ids)}}
        self._ids = self._ids + ids
        self._faiss = index

    def remove(self, ids: Sequence[str]) -> int:
        """Remove chunk ids (unknown ids are ignored); returns how many were removed."""
        gone = set(ids) & self._pos.keys()
        if not gone:
            return 0
        keep = [i for i, cid in enumerate(self._ids) if cid not in gone]
        self._set([self._ids[i] for i in keep], self._vectors[keep])
        return len(gone)

    # --- search ------------------------------------------------------------------

    def batch_search(self, qvecs: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """Top ``k`` (chunk id, cosine) per query vector, best first."""
        q = np.asarray(qvecs, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"query vectors must have shape (n, {self.dim}), got {tuple(np.shape(qvecs))}")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        n = len(self._ids)
        if n == 0 or k == 0 or len(q) == 0:
            return [[] for _ in range(len(q))]
        if self._faiss is None:
            self._rebuild()
        scores, rows = self._faiss.search(l2_normalize(q), min(k, n))
        out = []
        for srow, rrow in zip(scores, rows):
            hits = [(self._ids[r], float(s)) for s, r in zip(srow, rrow) if r >= 0]
            hits.sort(key=lambda p: (-p[1], p[0]))
            out.append(hits)
        return out

    def search(self, qvec: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        return self.batch_search(np.asarray(qvec, dtype=np.float32).reshape(1, -1), k)[0]

    # --- persistence -------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write ``faiss.index``, ``ids.txt`` and ``vectors.npy`` into ``directory``."""
        import faiss

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        if self._faiss is None:
            self._rebuild()
        np.save(d / VECTORS_FILE, self._vectors, allow_pickle=False)
        (d / IDS_FILE).write_text("".join(f"{i}\n" for i in self._ids), encoding="utf-8")
        faiss.write_index(self._faiss, str(d / INDEX_FILE))

    @classmethod
    def load(cls, directory: str | Path, **settings) -> "DenseIndex":
        """Load from ``directory``; ``settings`` are constructor args other than ``dim``.

        The FAISS file is used when it matches the stored ids and the requested
        kind; otherwise the index is rebuilt from ``vectors.npy``.
        """
        import faiss

        d = Path(directory)
        for name in (IDS_FILE, VECTORS_FILE):
            if not (d / name).is_file():
                raise FileNotFoundError(f"dense index in {d} is missing {name}")
        vectors = np.load(d / VECTORS_FILE, allow_pickle=False)
        ids = (d / IDS_FILE).read_text(encoding="utf-8").splitlines()
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise ValueError(f"dense index in {d} is inconsistent: {len(ids)} ids but vectors of shape {vectors.shape}")
        self = cls(vectors.shape[1], **settings)
        self._ids = ids
        self._pos = {cid: i for i, cid in enumerate(ids)}
        if len(self._pos) != len(ids):
            raise ValueError(f"dense index in {d} has duplicate chunk ids")
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = None
        if (d / INDEX_FILE).is_file():
            try:
                index = faiss.read_index(str(d / INDEX_FILE))
            except RuntimeError:
                index = None
        if index is not None and index.ntotal == len(ids) and index.d == self.dim and _kind_of(index) == self.resolved_kind():
            if isinstance(index, faiss.IndexHNSW):
                index.hnsw.efSearch = self.ef_search
            if isinstance(index, faiss.IndexIVF):
                index.nprobe = min(self.ivf_nprobe, index.nlist)
            self._faiss = index
        else:
            self._rebuild()
        return self


def _kind_of(index) -> str:
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"
