"""Encode short texts with a Unigram tokenizer without loading its whole vocabulary.

``tokenizers.Tokenizer.from_file`` on multilingual-e5's ``tokenizer.json``
(250,002 SentencePiece pieces) takes about 1 s of CPU, nearly all of it
building the Unigram model's trie, and holds Python's GIL while it does, so a
background thread cannot hide it.  A question needs a handful of pieces.

A Unigram model segments each pre-tokenized word by Viterbi over the pieces
that occur in it: from every position it considers exactly the vocabulary
pieces that are prefixes of the rest of the word (a trie walk, shortest
first), scored by their log-probabilities, with unknown characters scored
``min_score - 10`` over the whole vocabulary.  So a Unigram model over

* the pieces that are substrings of the text's pre-tokenized words,
* the piece with the lowest score (``min_score`` stays the same),
* the ids up to those the post-processor adds (``<s>``, ``</s>``) and ``unk``
  (so their ids are unchanged),

each with its original score, and the original normalizer, pre-tokenizer and
post-processor, gives the same pieces; mapping its ids back gives the same
ids (checked on more than 12,000 questions and NCP corpus sentences in
``tests/test_unigram_pieces.py`` / ``--runslow``).  Texts that contain a
special token's text (``<s>``, ``</s>``, ...) are left to the full tokenizer
(:meth:`UnigramPieces.encode` returns None for them), because special tokens
are split off before normalization.

The pieces are kept as a :class:`~policyqa.index.strtable.StringTable` (piece
-> id) and a score array, written once per tokenizer file into
``$POLICYQA_CACHE/tokenizers/<sha256 of tokenizer.json>/`` by
:func:`cached_pieces` and memory-mapped afterwards (~20 ms).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from policyqa.index.strtable import StringTable, cache_root, cached_dir

__all__ = ["UnigramPieces", "UnsupportedTokenizer", "cached_pieces", "FORMAT"]

FORMAT = 1
MAX_SPECIAL_ID = 64  # the ids the post-processor adds (and unk) must be below this to be kept in place


class UnsupportedTokenizer(ValueError):
    """The tokenizer is not a Unigram model this module can reproduce."""


class UnigramPieces:
    """A Unigram ``tokenizer.json`` as piece arrays plus a skeleton tokenizer.

    Args:
        skeleton_json: the tokenizer's JSON with only the first ``n_fixed``
            vocabulary entries (normalizer, pre-tokenizer, post-processor and
            added tokens unchanged).
        pieces: piece -> id of every other piece.
        scores: score of every id.
        min_piece: (id, piece) of a piece with the lowest score.
    """

    def __init__(self, skeleton_json: str, pieces: StringTable, scores: np.ndarray, min_piece: tuple[int, str]) -> None:
        from tokenizers import Tokenizer

        self.skeleton_json = skeleton_json
        self.skeleton = Tokenizer.from_str(skeleton_json)
        d = json.loads(skeleton_json)
        model = d["model"]
        self.fixed = [(str(p), float(sc)) for p, sc in model["vocab"]]
        self.n_fixed = len(self.fixed)
        self.unk_id = model.get("unk_id")
        self.byte_fallback = bool(model.get("byte_fallback", False))
        self.specials = tuple(t["content"] for t in d.get("added_tokens") or [] if t.get("content"))
        self.pieces = pieces
        self.scores = scores
        self.min_piece = (int(min_piece[0]), str(min_piece[1]))

    @classmethod
    def from_tokenizer_json(cls, text: str) -> "UnigramPieces":
        """Raises :class:`UnsupportedTokenizer` for anything but a Unigram model
        whose special tokens and unk have small ids."""
        d = json.loads(text)
        model = d.get("model") or {}
        if model.get("type") != "Unigram" or not model.get("vocab"):
            raise UnsupportedTokenizer(f"model type {model.get('type')!r} is not Unigram")
        vocab = model["vocab"]
        fixed_ids = _processor_ids(d.get("post_processor")) + ([model["unk_id"]] if model.get("unk_id") is not None else [])
        n_fixed = max(fixed_ids, default=-1) + 1
        if n_fixed > MAX_SPECIAL_ID:
            raise UnsupportedTokenizer(f"special token id {n_fixed - 1} is not among the first {MAX_SPECIAL_ID}")
        scores = np.array([float(sc) for _, sc in vocab], dtype=np.float64)
        try:  # a piece listed twice keeps its last id, as the Unigram model does
            pieces = StringTable.from_items((p, i) for i, (p, _) in enumerate(vocab) if i >= n_fixed)
        except ValueError as e:
            raise UnsupportedTokenizer(str(e)) from None
        low = int(np.argmin(scores))
        skeleton = dict(d, model=dict(model, vocab=vocab[:n_fixed]), truncation=None, padding=None)
        return cls(json.dumps(skeleton, ensure_ascii=False), pieces, scores, (low, vocab[low][0]))

    def __len__(self) -> int:
        return len(self.scores)

    # -- encoding ----------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The words the model sees: ``text`` normalized and pre-tokenized."""
        s = self.skeleton
        norm = s.normalizer.normalize_str(text) if s.normalizer is not None else text
        return [w for w, _ in s.pre_tokenizer.pre_tokenize_str(norm)] if s.pre_tokenizer is not None else [norm]

    def pieces_in(self, words: Sequence[str]) -> dict[int, str]:
        """id -> piece of every vocabulary piece (beyond the fixed ids) that occurs in ``words``."""
        found: dict[int, str] = {}
        longest = max((len(w) for w in words), default=0)
        for size in range(1, min(longest, self.pieces.max_length) + 1):
            subs = [w[k : k + size] for w in words for k in range(len(w) - size + 1)]
            hit, ids = self.pieces.find(subs, size)
            for j, i in zip(hit.tolist(), ids.tolist()):
                found[i] = subs[j]
        return found

    def encode(self, text: str, max_length: int | None = None) -> list[int] | None:
        """The ids the full tokenizer gives ``text`` (special tokens added,
        truncated to ``max_length``), or None when ``text`` holds a special
        token's text (use the full tokenizer then)."""
        if any(sp in text for sp in self.specials):
            return None
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        words = self.words(text)
        if any(sp in w for w in words for sp in self.specials):
            return None
        found = self.pieces_in(words)
        if self.min_piece[0] >= self.n_fixed:
            found[self.min_piece[0]] = self.min_piece[1]
        ids = sorted(found)
        vocab = self.fixed + [(found[i], float(self.scores[i])) for i in ids]
        tk = Tokenizer(Unigram(vocab, self.unk_id, self.byte_fallback))
        sk = self.skeleton
        tk.normalizer = sk.normalizer
        tk.pre_tokenizer = sk.pre_tokenizer
        tk.post_processor = sk.post_processor
        if max_length:
            tk.enable_truncation(max_length)
        back = np.concatenate([np.arange(self.n_fixed, dtype=np.int64), np.asarray(ids, dtype=np.int64)])
        return back[np.asarray(tk.encode(text).ids, dtype=np.int64)].tolist()

    # -- files -------------------------------------------------------------------

    def save(self, directory: Path) -> dict:
        d = Path(directory)
        lengths = self.pieces.save(d, "pieces")
        np.save(d / "scores.npy", self.scores, allow_pickle=False)
        (d / "skeleton.json").write_text(self.skeleton_json, encoding="utf-8")
        return {"format": FORMAT, "kind": "unigram-pieces", "n_pieces": len(self.scores), "min_piece": list(self.min_piece),
                "lengths": {str(k): v for k, v in lengths.items()}}

    @classmethod
    def load(cls, directory: Path, meta) -> "UnigramPieces":
        if meta.get("format") != FORMAT or meta.get("kind") != "unigram-pieces":
            raise ValueError("not a piece table of this version")
        d = Path(directory)
        scores = np.load(d / "scores.npy", mmap_mode="r", allow_pickle=False)
        if scores.shape != (int(meta["n_pieces"]),) or scores.dtype != np.float64:
            raise ValueError("piece scores are damaged")
        pieces = StringTable.load(d, "pieces", meta["lengths"])
        return cls((d / "skeleton.json").read_text(encoding="utf-8"), pieces, scores, tuple(meta["min_piece"]))


def _processor_ids(proc) -> list[int]:
    """Token ids a post-processor inserts (``<s>``, ``</s>``, ...)."""
    if not proc:
        return []
    kind = proc.get("type")
    if kind == "TemplateProcessing":
        return [int(i) for t in (proc.get("special_tokens") or {}).values() for i in t.get("ids") or []]
    if kind in ("RobertaProcessing", "BertProcessing"):
        return [int(proc[k][1]) for k in ("sep", "cls") if proc.get(k)]
    if kind == "Sequence":
        return [i for p in proc.get("processors") or [] for i in _processor_ids(p)]
    if kind == "ByteLevel":
        return []
    raise UnsupportedTokenizer(f"post-processor {kind!r} is not supported")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached(path: str, sha256: str, root: str) -> UnigramPieces:
    def build(tmp: Path) -> dict:
        return UnigramPieces.from_tokenizer_json(Path(path).read_text(encoding="utf-8")).save(tmp)

    return cached_dir(Path(root) / "tokenizers" / sha256[:16], build, UnigramPieces.load)


def cached_pieces(tokenizer_json: str | Path, sha256: str | None = None, cache: Path | None = None) -> UnigramPieces | None:
    """The :class:`UnigramPieces` of a ``tokenizer.json`` from the cache (built
    there on first use, about 2 s); None when the tokenizer is not a Unigram
    model this module reproduces, or the cache cannot be written (the caller
    then loads the full tokenizer).  ``sha256``: the file's SHA-256 when known
    (e.g. from an export's marker), else it is computed."""
    path = Path(tokenizer_json)
    root = str(Path(cache) if cache is not None else cache_root())
    with _lock:
        try:
            return _cached(str(path), sha256 or _file_sha256(path), root)
        except UnsupportedTokenizer:
            return None
        except OSError as e:
            logging.getLogger("policyqa.embeddings").warning(
                f"tokenizer piece cache under {root} is not usable ({e}); loading the full tokenizer instead")
            return None
