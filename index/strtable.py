"""A read-only ``str -> int`` table stored as sorted numpy arrays, one per key length.

Looking up every substring of a short text in a table of hundreds of
thousands of words (jieba's dictionary, a tokenizer's 250,000 pieces) needs
no Python dict of all of them: the keys of each length live in one sorted
fixed-width unicode array (``<U{L}``) and a batch of same-length strings is
found with one ``np.searchsorted``.  Loading is a few ``np.load`` calls
(memory-mapped), instead of the ~1 s it takes to build a 500,000-key dict.

Files (:meth:`StringTable.save` / :meth:`StringTable.load`):
``{name}-keys-{L}.npy`` and ``{name}-values-{L}.npy`` per key length ``L``;
plain ``.npy`` (no pickle).  The caller records the counts (``lengths``) and
passes them back to ``load``, which checks every array against them.

:func:`cached_dir` keeps such files in a cache directory written atomically
(temporary sibling, then rename), rebuilt when missing or damaged.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

__all__ = ["StringTable", "cached_dir", "cache_root"]

_NONE = np.zeros(0, dtype=np.int64)
T = TypeVar("T")


class StringTable:
    """Keys grouped by length into sorted ``<U{L}`` arrays with int64 values.

    Keys must be non-empty and must not contain NUL (numpy's fixed-width
    strings drop trailing NULs, so such a key could not be told apart).
    """

    def __init__(self, tables: Mapping[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self._tables = {int(n): (k, v) for n, (k, v) in tables.items() if len(k)}

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, int]]) -> "StringTable":
        """Build from ``(key, value)`` pairs; a repeated key keeps its last value."""
        by_len: dict[int, dict[str, int]] = {}
        for key, value in items:
            if not key or "\x00" in key:
                raise ValueError(f"cannot store key {key!r}: keys must be non-empty and free of NUL")
            by_len.setdefault(len(key), {})[key] = int(value)
        tables = {}
        for n, d in by_len.items():
            keys = sorted(d)
            tables[n] = (np.array(keys, dtype=f"<U{n}"), np.array([d[k] for k in keys], dtype=np.int64))
        return cls(tables)

    @property
    def lengths(self) -> dict[int, int]:
        """Key length -> number of keys of that length."""
        return {n: len(k) for n, (k, _) in sorted(self._tables.items())}

    @property
    def max_length(self) -> int:
        return max(self._tables, default=0)

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self._tables.values())

    def items(self) -> Iterable[tuple[str, int]]:
        for _, (keys, values) in sorted(self._tables.items()):
            yield from zip(keys.tolist(), values.tolist())

    def find(self, strings: Sequence[str], length: int) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``strings`` (each exactly ``length`` characters) are keys:
        (their positions in ``strings``, their values)."""
        table = self._tables.get(length)
        if table is None or not strings:
            return _NONE, _NONE
        keys, values = table
        query = np.array(strings, dtype=f"<U{length}")
        pos = np.searchsorted(keys, query)
        np.minimum(pos, len(keys) - 1, out=pos)
        hit = np.flatnonzero(keys[pos] == query)
        return hit, np.asarray(values[pos[hit]])

    def get(self, key: str, default: int | None = None) -> int | None:
        hit, values = self.find([key], len(key)) if key and "\x00" not in key else (_NONE, _NONE)
        return int(values[0]) if len(hit) else default

    # -- files -------------------------------------------------------------------

    def save(self, directory: str | Path, name: str) -> dict[int, int]:
        """Write the arrays into ``directory``; returns :attr:`lengths` (pass it to :meth:`load`)."""
        d = Path(directory)
        for n, (keys, values) in self._tables.items():
            np.save(d / f"{name}-keys-{n}.npy", keys, allow_pickle=False)
            np.save(d / f"{name}-values-{n}.npy", values, allow_pickle=False)
        return self.lengths

    @classmethod
    def load(cls, directory: str | Path, name: str, lengths: Mapping[int | str, int]) -> "StringTable":
        """Memory-map the arrays written by :meth:`save`; raises ``ValueError``
        (or ``OSError``) when a file is missing, truncated or not what ``lengths`` says."""
        d = Path(directory)
        tables = {}
        for n, count in lengths.items():
            n, count = int(n), int(count)
            keys = np.load(d / f"{name}-keys-{n}.npy", mmap_mode="r", allow_pickle=False)
            values = np.load(d / f"{name}-values-{n}.npy", mmap_mode="r", allow_pickle=False)
            if keys.dtype != np.dtype(f"<U{n}") or keys.shape != (count,) or values.shape != (count,) \
                    or values.dtype != np.int64:
                raise ValueError(f"{name} table of {n}-character keys is damaged")
            tables[n] = (keys, values)
        return cls(tables)


# --- a cache directory of derived files ------------------------------------------------


def cache_root() -> Path:
    """``$POLICYQA_CACHE`` if set, else ``~/.cache/policyqa`` (:func:`policyqa.corpus.cache.cache_root`)."""
    from policyqa.corpus.cache import cache_root as root

    return root()


META = "meta.json"


def cached_dir(target: Path, build: Callable[[Path], dict], load: Callable[[Path, dict], T]) -> T:
    """Load what ``target`` holds, building it first when it is missing or damaged.

    ``build(tmp)`` writes the files into an empty temporary directory and
    returns the metadata saved as ``meta.json`` (written last, so a directory
    without it is incomplete); ``load(dir, meta)`` reads them and raises
    ``ValueError``/``OSError``/``KeyError`` when they are damaged.  The new
    directory is renamed into place, so readers never see half of it; when
    two processes build at once, one rename wins and the other's copy is
    discarded.  Raises ``OSError`` when the cache cannot be written.
    """
    target = Path(target)
    try:
        meta = json.loads((target / META).read_text(encoding="utf-8"))
        return load(target, meta)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        meta = build(tmp)
        (tmp / META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        load(tmp, meta)  # check what was written before it replaces anything
        if target.exists():  # damaged: move it aside first
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:  # another process put its copy in place meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
            meta = json.loads((target / META).read_text(encoding="utf-8"))
        return load(target, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
