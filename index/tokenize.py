"""Keyword tokenisation for BM25: jieba search-mode cut over normalised text.

Queries and documents go through exactly the same steps:

1. :func:`policyqa.corpus.clean.normalize_query` (traditional -> simplified,
   full-width -> half-width, whitespace collapsed), so 「專精特新」 and
   「２５％」 match 「专精特新」 and 「25%」;
2. jieba search-mode cut with a policy user dictionary (专精特新, 小巨人,
   智改数转, 规上工业企业 ... stay whole, and search mode also emits their
   dictionary sub-words);
3. lower-casing; stopwords, whitespace and punctuation/symbol tokens dropped.
   Numbers and Latin words are kept.

The dictionary is not loaded whole to tokenize a few texts: each text is cut
with just the entries of jieba's dictionary it contains, looked up in cached
arrays (:mod:`policyqa.index.jieba_dict`; the same tokens, tested on
thousands of texts), so a tokenizer is ready in milliseconds instead of
about a second.  Tokenizing many texts at once
(:meth:`JiebaTokenizer.batch_tokenize`, as index builds do) loads the whole
dictionary, which is faster per text.  No global jieba state is touched
(apart from silencing jieba's logger while it loads).
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path
from typing import Any, Protocol, Sequence

from policyqa.corpus.clean import normalize_query
from policyqa.index.jieba_dict import cached_frequencies, memory_tokenizer, text_tokenizer

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_USERDICT = DATA_DIR / "userdict.txt"
DEFAULT_STOPWORDS = DATA_DIR / "stopwords.txt"
# batch_tokenize of at least this many texts loads the whole dictionary (about
# 1 s once; then about 30% faster per text than looking words up per text)
BULK_TEXTS = 500

__all__ = ["Tokenizer", "JiebaTokenizer", "DEFAULT_USERDICT", "DEFAULT_STOPWORDS", "load_stopwords", "BULK_TEXTS"]


class Tokenizer(Protocol):
    """Anything with ``tokenize(text) -> list[str]`` can feed :class:`BM25Index`."""

    def tokenize(self, text: str) -> list[str]: ...


def load_stopwords(path: Path) -> frozenset[str]:
    """Read one stopword per line; blank lines and ``#`` comments are ignored."""
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        w = line.split("#", 1)[0].strip().lower()
        if w:
            words.add(w)
    return frozenset(words)


def _is_junk(token: str) -> bool:
    """True for tokens made only of whitespace, punctuation or symbols."""
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PSZC" for ch in token)


def _sha256(path: Path | None) -> str:
    if path is None:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class JiebaTokenizer:
    """jieba search-mode tokenizer with a policy user dictionary and stopwords.

    Args:
        userdict: jieba user dictionary (``word freq [tag]`` lines); ``None``
            loads no user dictionary.  Defaults to ``index/data/userdict.txt``.
        stopwords: stopword file; ``None`` drops no words (punctuation is still
            dropped).  Defaults to ``index/data/stopwords.txt``.
        hmm: let jieba's HMM join unknown character runs into words (jieba's
            default).
        dictionary: ``"lookup"`` (default) cuts each text with the entries of
            jieba's dictionary it contains, read from cached arrays (ready in
            milliseconds; the first use on a machine writes the cache, about
            2 s); ``"memory"`` loads the whole dictionary (about 1 s of CPU,
            once per process).  Both give the same tokens.

    The whole dictionary, when loaded, is shared read-only by every instance
    with the same user dictionary; user words never reach jieba's global
    tokenizer.
    """

    def __init__(
        self,
        userdict: Path | None = DEFAULT_USERDICT,
        stopwords: Path | None = DEFAULT_STOPWORDS,
        hmm: bool = True,
        dictionary: str = "lookup",
    ) -> None:
        if dictionary not in ("lookup", "memory"):
            raise ValueError(f"dictionary must be 'lookup' or 'memory', got {dictionary!r}")
        self.userdict = Path(userdict) if userdict is not None else None
        self.stopwords_path = Path(stopwords) if stopwords is not None else None
        self.hmm = hmm
        for label, p in (("user dictionary", self.userdict), ("stopword file", self.stopwords_path)):
            if p is not None and not p.is_file():
                raise FileNotFoundError(f"jieba {label} not found: {p}")
        self.stopwords = load_stopwords(self.stopwords_path) if self.stopwords_path else frozenset()
        self._userdict_sha256 = _sha256(self.userdict)
        self._words = cached_frequencies(self.userdict, self._userdict_sha256) if dictionary == "lookup" else None
        self._memory = None if self._words is not None else memory_tokenizer(self.userdict, self._userdict_sha256)

    @property
    def dictionary(self) -> str:
        """``"memory"`` once the whole dictionary is loaded, else ``"lookup"``."""
        return "memory" if self._memory is not None else "lookup"

    def tokenize(self, text: str) -> list[str]:
        """Normalise ``text`` and cut it into search tokens (order kept, repeats kept)."""
        if not text:
            return []
        norm = normalize_query(text)
        jb = self._memory if self._memory is not None else text_tokenizer(self._words, norm)
        out = []
        for tok in self._search_cut(jb, norm):
            tok = tok.strip().lower()
            if not tok or _is_junk(tok) or tok in self.stopwords:
                continue
            out.append(tok)
        return out

    def _search_cut(self, jb, text: str):
        """jieba search mode, generalised to sub-words of every length.

        ``jieba.cut_for_search`` emits only the 2- and 3-character dictionary
        words inside a long word; this also emits longer ones, so 示范智能车间
        yields 智能车间 and 专精特新小巨人 yields 专精特新 and 小巨人.
        """
        freq = jb.FREQ
        for word in jb.cut(text, HMM=self.hmm):
            n = len(word)
            for size in range(2, n):
                for i in range(n - size + 1):
                    sub = word[i : i + size]
                    if freq.get(sub):
                        yield sub
            yield word

    def batch_tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """:meth:`tokenize` of each text; from :data:`BULK_TEXTS` texts on with the whole dictionary loaded."""
        if len(texts) >= BULK_TEXTS and self._memory is None:
            self._memory = memory_tokenizer(self.userdict, self._userdict_sha256)
        return [self.tokenize(t) for t in texts]

    def settings(self) -> dict[str, Any]:
        """What the keyword index depends on, recorded in the index manifest."""
        return {
            "kind": "jieba-search",
            "hmm": self.hmm,
            "userdict_sha256": self._userdict_sha256[:16],
            "stopwords_sha256": _sha256(self.stopwords_path)[:16],
        }

    def __repr__(self) -> str:
        return f"JiebaTokenizer(userdict={self.userdict}, stopwords={self.stopwords_path}, hmm={self.hmm})"
