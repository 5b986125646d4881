"""Policy terms a question turns on, and their synonyms.

A question about 小升规 must be answered from a passage about 小升规: the
relevance gate and the sentence selector check that every domain term of the
question (words of the policy dictionary, ≥ 3 characters, not generic) or a
synonym of it occurs in the evidence.
"""

from __future__ import annotations

from functools import lru_cache

from policyqa.index.tokenize import DEFAULT_USERDICT

# term -> words that count as the same thing in a passage
SYNONYMS: dict[str, tuple[str, ...]] = {
    "规上": ("规模以上",),
    "规上工业企业": ("规模以上工业企业",),
    "规模以上工业企业": ("规上工业企业",),
    "机械臂": ("机器人",),
    "上云": ("上云", "星级上云", "登云", "云资源"),
    "企业上云": ("上云", "登云"),
    "高企": ("高新技术企业",),
    "技改": ("技术改造",),
    "技术改造": ("技改",),
    "专精特新小巨人": ("小巨人",),
    "小巨人": ("小巨人",),
    "企业技术中心": ("技术中心",),
    "示范智能车间": ("智能车间",),
}
_GENERIC = {
    "专精", "特新", "奖补", "以奖代补",
    "中小企业", "工信局", "工信厅", "工信部", "产业链", "营商环境", "专精特新", "专精特新企业",
    "专精特新中小企业", "中小企业服务中心", "中小企业公共服务平台", "高新技术企业",
}


@lru_cache(maxsize=1)
def _dictionary() -> tuple[str, ...]:
    words = []
    for line in DEFAULT_USERDICT.read_text(encoding="utf-8").splitlines():
        w = line.split()[0] if line.strip() else ""
        if len(w) >= 2 and w not in _GENERIC:
            words.append(w)
    words += [w for w in SYNONYMS if len(w) >= 2 and w not in words]
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


def present(term: str, text: str) -> bool:
    return term in text or any(s in text for s in SYNONYMS.get(term, ()))


def missing_terms(question: str, evidence: str) -> list[str]:
    return [t for t in dict.fromkeys(domain_terms(question)) if not present(t, evidence)]
