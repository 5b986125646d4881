"""Sentence vectors of every chunk, embedded at build time (answer candidates).

The answer stage scores the sentences of the top passages against the
question.  Their dense similarity must not cost an embedding call per
question, so every chunk's sentences are embedded once, when the chunk is
indexed, and kept here beside the index: the query path embeds only the
question (and reuses the retrieval's query vector for it).

Layout of ``DIR/sentences/`` (a sub-folder of the index directory)::

    spans.jsonl     {"chunk_id", "spans": [[start, end], ...]} per chunk, in row order
    vectors.npy     float16 [n_sentences, dim], L2-normalised, rows in span order
    settings.json   {"format", "dim", "n", "splitter"}

``split_spans`` is the one sentence splitter of the project (pure function):
the answer stage builds its candidates on the same spans, so a candidate's
vector is found by (chunk id, sentence index).

A Milvus deployment would hold the same rows in a side collection
``<collection>_sentences`` with fields (id INT64 auto, chunk_id VARCHAR,
start INT32, end INT32, vector FLOAT_VECTOR(dim)), a scalar index on
chunk_id, no vector index (rows are fetched by chunk id, never searched):
add/remove are ``insert``/``delete(expr='chunk_id in [...]')``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["split_spans", "SentenceIndex", "SENTENCES_DIR"]

SENTENCES_DIR = "sentences"
FORMAT = 1
SPLITTER = "v1"  # bump when split_spans changes: stored spans are then rebuilt

_SENT = re.compile(r"[^。！？；!?;\n]+(?:[。！？；!?;]+[”’」』）)]*)?")
_NOTE = re.compile(r"^[（(][^（）()]*(?:[（(][^（）()]*[）)][^（）()]*)*[）)]$")


def split_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``.

    A sentence ends at 。！？；!?; or a line break; surrounding whitespace is
    not part of it; a trailing parenthesised note (（牵头单位：…）) on the same
    line stays with the sentence before it.
    """
    out: list[tuple[int, int]] = []
    for m in _SENT.finditer(text):
        s, e = m.start(), m.end()
        raw = text[s:e]
        s += len(raw) - len(raw.lstrip())
        if e <= s:
            continue
        e = s + len(text[s:e].rstrip())
        if e <= s:
            continue
        if out and _NOTE.match(text[s:e]) and "\n" not in text[out[-1][1] : s]:
            out[-1] = (out[-1][0], e)
            continue
        out.append((s, e))
    return out


class SentenceIndex:
    """chunk id -> sentence spans and their vectors.

    Build with :meth:`build`, change with :meth:`add` / :meth:`remove`,
    persist with :meth:`save` / :meth:`load`.  ``lookup(chunk_id)`` returns
    (spans, float32 matrix) or None for a chunk that has no entry.
    """

    def __init__(self, dim: int, spans: dict[str, list[tuple[int, int]]] | None = None, vectors: dict[str, np.ndarray] | None = None):
        self.dim = int(dim)
        self._spans: dict[str, list[tuple[int, int]]] = dict(spans or {})
        self._vectors: dict[str, np.ndarray] = dict(vectors or {})

    def __len__(self) -> int:
        return sum(len(v) for v in self._spans.values())

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._spans

    @property
    def chunk_ids(self) -> list[str]:
        return list(self._spans)

    @classmethod
    def build(cls, chunks: Sequence, embedder, progress: bool = False) -> "SentenceIndex":
        idx = cls(embedder.dim)
        idx.add(chunks, embedder, progress=progress)
        return idx

    def add(self, chunks: Sequence, embedder, progress: bool = False) -> int:
        """Embed the sentences of ``chunks`` (replacing their old entries); returns sentences embedded."""
        chunks = list(chunks)
        spans = {c.chunk_id: split_spans(c.text) for c in chunks}
        texts = [c.text[s:e] for c in chunks for s, e in spans[c.chunk_id]]
        if texts:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch together
            vecs = np.asarray(embedder.encode_documents([texts[i] for i in order], progress=progress), dtype=np.float32)
            if vecs.shape != (len(texts), self.dim):
                raise ValueError(f"sentence embedder returned shape {vecs.shape}, expected ({len(texts)}, {self.dim})")
            back = np.empty_like(vecs)
            back[np.asarray(order)] = vecs
        else:
            back = np.zeros((0, self.dim), dtype=np.float32)
        row = 0
        for c in chunks:
            n = len(spans[c.chunk_id])
            self._spans[c.chunk_id] = spans[c.chunk_id]
            self._vectors[c.chunk_id] = back[row : row + n].astype(np.float16)
            row += n
        return len(texts)

    def copy(self) -> "SentenceIndex":
        """A copy whose changes leave this one as it is (vector arrays are shared, never mutated)."""
        return SentenceIndex(self.dim, dict(self._spans), dict(self._vectors))

    def remove(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            self._spans.pop(cid, None)
            self._vectors.pop(cid, None)

    def retain(self, chunk_ids: Iterable[str]) -> None:
        """Drop entries of chunks not in ``chunk_ids``."""
        keep = set(chunk_ids)
        self.remove([c for c in list(self._spans) if c not in keep])

    def missing(self, chunks: Mapping[str, object]) -> list:
        """Chunks of ``chunks`` (id -> Chunk) without up-to-date entries."""
        out = []
        for cid, c in chunks.items():
            if cid not in self._spans or self._spans[cid] != split_spans(c.text):
                out.append(c)
        return out

    def lookup(self, chunk_id: str) -> tuple[list[tuple[int, int]], np.ndarray] | None:
        if chunk_id not in self._spans:
            return None
        return self._spans[chunk_id], self._vectors[chunk_id]

    # --- persistence ---------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        ids = list(self._spans)
        with open(path / "spans.jsonl", "w", encoding="utf-8") as f:
            for cid in ids:
                f.write(json.dumps({"chunk_id": cid, "spans": [list(s) for s in self._spans[cid]]}, ensure_ascii=False) + "\n")
        mats = [self._vectors[c] for c in ids]
        all_vecs = np.concatenate(mats) if mats else np.zeros((0, self.dim), dtype=np.float16)
        np.save(path / "vectors.npy", all_vecs.astype(np.float16))
        (path / "settings.json").write_text(json.dumps({"format": FORMAT, "dim": self.dim, "n": int(len(all_vecs)), "splitter": SPLITTER}) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "SentenceIndex | None":
        """The saved index, or None when ``path`` holds none (or one of another format or splitter)."""
        path = Path(path)
        try:
            settings = json.loads((path / "settings.json").read_text(encoding="utf-8"))
            if settings.get("format") != FORMAT or settings.get("splitter") != SPLITTER:
                return None
            vecs = np.load(path / "vectors.npy")
            rows = [json.loads(line) for line in (path / "spans.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, ValueError):
            return None
        idx = cls(int(settings["dim"]))
        r = 0
        for row in rows:
            spans = [tuple(s) for s in row["spans"]]
            idx._spans[row["chunk_id"]] = spans
            idx._vectors[row["chunk_id"]] = vecs[r : r + len(spans)]
            r += len(spans)
        if r != len(vecs):
            return None
        return idx
