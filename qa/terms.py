"""Policy terms a question turns on (words of the policy dictionary).

A question about 小升规 must be answered from a passage about 小升规: the
features count the question's policy terms (dictionary words, not the
generic ones listed in ``qa/data/cues.json``) that are missing from a
candidate and its context, with synonyms from the same file.
"""

from __future__ import annotations

from functools import lru_cache

from policyqa.index.tokenize import DEFAULT_USERDICT
from policyqa.qa.cues import load_cues, present


@lru_cache(maxsize=1)
def _dictionary() -> tuple[str, ...]:
    cues = load_cues()
    words = []
    for line in DEFAULT_USERDICT.read_text(encoding="utf-8").splitlines():
        w = line.split()[0] if line.strip() else ""
        if len(w) >= 2 and w not in cues.not_topic:
            words.append(w)
    words += [w for w in cues.synonyms if len(w) >= 3 and w not in cues.not_topic]
    return tuple(sorted(set(words), key=len, reverse=True))


def domain_terms(text: str) -> list[str]:
    """Policy terms in ``text``, longest first, not overlapping."""
    found, taken = [], [False] * len(text)
    for w in _dictionary():
        start = text.find(w)
        while start >= 0:
            if not any(taken[start : start + len(w)]):
                found.append((start, w))
                for i in range(start, start + len(w)):
                    taken[i] = True
            start = text.find(w, start + 1)
    return [w for _, w in sorted(found)]


def missing_terms(question: str, evidence: str) -> list[str]:
    return [t for t in dict.fromkeys(domain_terms(question)) if not present(t, evidence)]
