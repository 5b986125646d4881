"""English questions: the Chinese words of their policy terms.

The documents are Chinese; BM25 cannot match an English word against them and
the default embedding model's cross-lingual similarity is weak.  An English
question is therefore searched and scored with the Chinese words of the policy
terms it contains appended (``qa/data/glossary.json``, general domain
vocabulary): 「How much does Suqian award a 'little giant'?」 is searched as
「How much does Suqian award a 'little giant'?（奖励 小巨人）」.  Place names are
read separately (:mod:`policyqa.qa.regions`, from the knowledge base's pinyin).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "glossary.json"


def _phrase(p: str) -> str:
    """A glossary phrase as a pattern: words separated by spaces or hyphens, a plural allowed."""
    words = [re.escape(w) for w in re.split(r"[\s-]+", p) if w]
    last = words[-1]
    if last.endswith("y") and len(last) > 2:
        words[-1] = last[:-1] + "(?:y|ies)"
    else:
        words[-1] = last + "(?:s|es)?"
    return r"[\s-]+".join(words)


@lru_cache(maxsize=4)
def load_glossary(path: str | Path = DATA) -> tuple[re.Pattern, dict[str, tuple[str, ...]]]:
    """(pattern matching any phrase, longest first; phrase -> Chinese words)."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    terms = {re.sub(r"[\s-]+", " ", k.strip().lower()): tuple(v) for k, v in d["terms"].items()}
    alts = sorted(terms, key=len, reverse=True)
    pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(_phrase(p) for p in alts) + r")(?![A-Za-z0-9])", re.I)
    return pattern, terms


def chinese_terms(text: str, path: str | Path = DATA) -> list[str]:
    """The Chinese words of the glossary phrases in ``text``, in order, without repeats."""
    pattern, terms = load_glossary(str(path))
    out: list[str] = []
    for m in pattern.finditer(text):
        key = _key(m.group(0), terms)
        for w in terms.get(key, ()):
            if w not in out:
                out.append(w)
    return out


def _key(found: str, terms: dict[str, tuple[str, ...]]) -> str:
    k = re.sub(r"[\s-]+", " ", found.lower())
    if k in terms:
        return k
    for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
        if k.endswith(cut) and k[: -len(cut)] + add in terms:
            return k[: -len(cut)] + add
    return k


def with_chinese_terms(question: str, path: str | Path = DATA) -> str:
    """``question`` with the Chinese words of its policy terms appended in （）, or unchanged."""
    words = chinese_terms(question, path)
    return f"{question}（{' '.join(words)}）" if words else question
