"""The tier of a rule that an amount the asker states falls in.

「在长葛搞技改，设备一共买了两千来万，补助按几个点算？」 over 「1. 设备投资额300万元（含）
至1000万元的，按设备投资额的7%给予补助；2. 设备投资额1000万元（含）至3000万元的，按8.5%…」:
the asker's 2000万 is in the second tier, so the first does not answer them.

- :func:`stated_amounts`: the sums of money a question states (「2500来万」, 「两千来万」,
  「两个亿」), in 万元, read with the money words of ``qa/data/eligibility.json``
  (``money_scale``; ``money_approx``: 来, 多, 余 between a number and its unit).
- :func:`amount_ranges`: the amount conditions a unit of a document states — an amount
  range that ends a condition clause (「…万元（含）至…万元的」, 「…万元以上的」, 「不足…万元的」);
  a cap (「最高不超过400万元」) is not one.
- :func:`applies`: whether one of the stated amounts is in one of the ranges (None when
  the unit states no range).

The composer (:meth:`policyqa.qa.compose.ExtractiveComposer.select`) uses them to move
from a chosen unit whose range holds none of the stated amounts to a unit of the same
passage whose range holds one.  Boundaries count as inside (「（含）」 and 「（不含）」
are not told apart): a stated 「差不多2500万」 is approximate anyway.
"""

from __future__ import annotations

import re
from functools import lru_cache

from policyqa.corpus.items import _cn_number
from policyqa.qa.eligibility import _NUM, load_eligibility_cues

__all__ = ["amount_ranges", "applies", "stated_amounts"]

_INCL = r"(?:\s*[（(]\s*(?:含|不含)\s*[）)])?"  # 「（含）」 after a bound
_TO = r"\s*(?:至|到|－|-|—|~|～)\s*"
_END = r"\s*(?:之间\s*)?的"  # a condition clause: 「…的，按…给予补助」 (spaces read one way: no two adjacent \s*)
_ABOVE_WORDS = r"(?:达到|超过|不低于|高于|满)"
_BELOW_WORDS = r"(?:不足|低于|未达到|未满|不满|少于)"


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern, re.Pattern, dict[str, float]]:
    c = load_eligibility_cues()
    units = "|".join(re.escape(u) for u in sorted(c.money_scale, key=len, reverse=True))
    approx = "|".join(re.escape(w) for w in c.money_approx)
    money = lambda n: rf"(?P<{n}>{_NUM})\s*(?P<{n}u>{units})"  # noqa: E731
    stated = re.compile(rf"(?P<a>{_NUM})\s*(?:个\s*)?(?:(?:{approx})\s*)?(?P<au>{units})" if approx else money("a"))
    between = re.compile(money("a") + _INCL + _TO + money("b") + _INCL + _END)
    above = re.compile(money("a") + _INCL + r"\s*(?:及)?以上" + _INCL + r"\s*的")
    below = re.compile(money("a") + _INCL + r"\s*(?:以下|以内)" + _INCL + r"\s*的")
    prefixed = re.compile(rf"(?P<w>{_ABOVE_WORDS}|{_BELOW_WORDS})\s*" + money("a") + r"\s*(?:以上\s*)?的")
    return stated, between, above, below, prefixed, dict(c.money_scale)


def _wan(num: str, unit: str, scale: dict[str, float]) -> float | None:
    n = _cn_number(num)
    return None if n is None else n * scale.get(unit, 1.0)


@lru_cache(maxsize=4096)
def stated_amounts(question: str) -> tuple[float, ...]:
    """The sums of money ``question`` states, in 万元."""
    stated, *_, scale = _patterns()
    out = (_wan(m.group("a"), m.group("au"), scale) for m in stated.finditer(question))
    return tuple(v for v in out if v is not None)


@lru_cache(maxsize=16384)
def amount_ranges(text: str) -> tuple[tuple[float, float], ...]:
    """The amount ranges (low, high; 万元) that ``text`` states as conditions."""
    _, between, above, below, prefixed, scale = _patterns()
    out: list[tuple[float, float]] = []
    taken: list[tuple[int, int]] = []
    for m in between.finditer(text):
        a, b = _wan(m.group("a"), m.group("au"), scale), _wan(m.group("b"), m.group("bu"), scale)
        if a is not None and b is not None:
            out.append((min(a, b), max(a, b)))
            taken.append(m.span())
    for pattern, kind in ((above, "above"), (below, "below"), (prefixed, "")):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue  # the upper bound of a range already read
            a = _wan(m.group("a"), m.group("au"), scale)
            if a is None:
                continue
            if not kind:
                kind_here = "below" if re.fullmatch(_BELOW_WORDS, m.group("w")) else "above"
            else:
                kind_here = kind
            out.append((a, float("inf")) if kind_here == "above" else (0.0, a))
    return tuple(out)


def applies(amounts: tuple[float, ...], ranges: tuple[tuple[float, float], ...]) -> bool | None:
    """One of ``amounts`` is in one of ``ranges``; None when there are no ranges (or no amounts)."""
    if not ranges or not amounts:
        return None
    return any(lo <= x <= hi for x in amounts for lo, hi in ranges)
