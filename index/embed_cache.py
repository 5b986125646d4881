"""Document vectors cached by text hash, so rebuilds re-embed only changed text.

:class:`EmbeddingCache` is one SQLite file (``$POLICYQA_HOME/embedding-cache.sqlite3``
for the app and CLI) holding float32 vectors under

    space   the embedder's ``model_id`` and vector space, e.g.
            ``multilingual-e5-small@1a2b3c4d5e6f|fp32`` (torch, onnx and
            onnx-mixed documents share "fp32"; onnx-int8 is "int8")
    key     SHA-256 of the document prompt, a NUL and the stripped text

:class:`CachedEmbedder` wraps any ``Embedder``: ``encode_documents`` looks
every text up, embeds only the missing ones (each distinct text once, longest
first, in slices that are committed as they finish, so a killed build keeps
what it had embedded) and returns exactly what the inner embedder would.
Queries are never cached.  A damaged cache file is moved aside with one
warning line and replaced; the cache never makes an embedding call fail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["EmbeddingCache", "CachedEmbedder", "text_key"]

log = logging.getLogger("policyqa.embeddings")
SLICE = 128  # texts embedded and committed together (and the progress step)
_LOOKUP = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


def text_key(prompt: str, text: str) -> bytes:
    """The cache key of a document text under a prompt (32 bytes)."""
    return hashlib.sha256(f"{prompt}\x00{text.strip()}".encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors by (space, text key) in one SQLite file; safe across threads and processes."""

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"

    # -- connection --------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (space TEXT NOT NULL, key BLOB NOT NULL, "
                    "dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (space, key)) WITHOUT ROWID"
                )
                conn.commit()
            except sqlite3.DatabaseError:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _reset(self, err: Exception) -> None:
        """Move a damaged file aside (kept for inspection) and start afresh."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        log.warning(f"embedding cache {self.path} is unreadable ({err}); moved to {aside.name}, starting a new one")
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                try:
                    os.replace(p, Path(f"{aside}{suffix}"))
                except OSError:
                    pass

    def _run(self, fn):
        """Run ``fn(conn)``; a damaged database is replaced once, other
        errors (disk full, locked too long) disable caching for the call."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    return fn(self._connect())
                except sqlite3.DatabaseError as e:
                    if attempt == 0 and _is_corruption(e):
                        self._reset(e)
                        continue
                    log.warning(f"embedding cache {self.path} not used ({type(e).__name__}: {e})")
                    return None
                except OSError as e:
                    log.warning(f"embedding cache {self.path} not used ({e})")
                    return None

    # -- verbs -------------------------------------------------------------------

    def get(self, space: str, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are absent)."""
        uniq = list(dict.fromkeys(keys))

        def fetch(conn: sqlite3.Connection) -> dict[bytes, np.ndarray]:
            out: dict[bytes, np.ndarray] = {}
            for i in range(0, len(uniq), _LOOKUP):
                part = uniq[i : i + _LOOKUP]
                q = f"SELECT key, dim, vec FROM vectors WHERE space = ? AND key IN ({','.join('?' * len(part))})"
                for key, d, vec in conn.execute(q, [space, *part]):
                    if d == dim and len(vec) == 4 * dim:
                        out[bytes(key)] = np.frombuffer(vec, dtype="<f4")
            return out

        return self._run(fetch) or {}

    def put(self, space: str, items: Mapping[bytes, np.ndarray] | Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(space, k, int(v.shape[-1]), np.ascontiguousarray(v, dtype="<f4").tobytes())
                for k, v in (items.items() if isinstance(items, Mapping) else items)]
        if not rows:
            return

        def write(conn: sqlite3.Connection) -> None:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO vectors (space, key, dim, vec) VALUES (?, ?, ?, ?)", rows)

        self._run(write)

    def count(self, space: str | None = None) -> int:
        def n(conn: sqlite3.Connection) -> int:
            if space is None:
                return conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            return conn.execute("SELECT COUNT(*) FROM vectors WHERE space = ?", (space,)).fetchone()[0]

        return self._run(n) or 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _is_corruption(e: sqlite3.DatabaseError) -> bool:
    """A damaged or foreign file (not: locked, disk full, read-only)."""
    msg = str(e).lower()
    return type(e) is sqlite3.DatabaseError or any(w in msg for w in ("malformed", "not a database", "disk image"))


class CachedEmbedder:
    """An ``Embedder`` whose document vectors go through an :class:`EmbeddingCache`.

    ``space`` defaults to ``"<model_id>|<vector space of the backend>"``.
    ``last_hits`` / ``last_embedded`` tell what the latest
    ``encode_documents`` call took from the cache and computed.
    """

    def __init__(self, inner, cache: EmbeddingCache, space: str | None = None) -> None:
        from policyqa.index.embeddings import vector_space

        self.inner = inner
        self.cache = cache
        model_id = getattr(inner, "model_id", None) or inner.name
        self.space = space or f"{model_id}|{vector_space(inner.backend)}"
        self.last_hits = 0
        self.last_embedded = 0

    # the Embedder protocol's attributes are the inner embedder's
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def backend(self) -> str:
        return self.inner.backend

    @property
    def dim(self) -> int:
        return self.inner.dim

    def __getattr__(self, attr):  # model_id, prompts, warm(), session(), ...
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, {self.cache!r})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode expects a sequence of texts, not a single str; wrap it in a list")
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"text {i} is {type(t).__name__}, expected str")
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            self.last_hits = self.last_embedded = 0
            return out
        prompt = getattr(self.inner, "document_prompt", "")
        keys = [text_key(prompt, t) for t in items]
        found = self.cache.get(self.space, keys, self.dim)
        hits = sum(1 for k in keys if k in found)
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, items):
            if k not in found and k not in todo:
                todo[k] = t
        order = sorted(todo, key=lambda k: -len(todo[k]))  # similar lengths in one slice
        bar = None
        if progress and order:
            from tqdm import tqdm

            bar = tqdm(total=len(order), unit=" chunks", desc="embedding", file=sys.stderr, dynamic_ncols=True,
                       mininterval=0.5, postfix={"cached": hits})
        try:
            for i in range(0, len(order), SLICE):
                part = order[i : i + SLICE]
                vecs = np.asarray(self.inner.encode_documents([todo[k] for k in part], progress=False), dtype=np.float32)
                if vecs.shape != (len(part), self.dim):
                    raise ValueError(f"embedder {self.name!r} returned vectors of shape {vecs.shape}, "
                                     f"expected ({len(part)}, {self.dim})")
                new = dict(zip(part, vecs))
                self.cache.put(self.space, new)
                found.update(new)
                if bar is not None:
                    bar.update(len(part))
        finally:
            if bar is not None:
                bar.close()
        for r, k in enumerate(keys):
            out[r] = found[k]
        self.last_embedded = len(order)
        self.last_hits = hits
        return out
