"""Quantities a question states and the thresholds a clause sets (pure functions).

A question that states a figure of its own — 「设备投资800万，按多少比例补？」,
「营收增长20%以上有奖励吗」, 「过1个亿呢？」 — is answered by the clause whose
threshold that figure meets, and among those by the highest one it meets (the
tier that applies): 「设备投资500万元以上的，按8%」, not 「3000万元以上的，按10%」.

:func:`stated` reads the question's quantities, :func:`bounds` a clause's
thresholds (a number with a comparison word: 500万元以上, 超过1亿元, 不低于20%,
a range 100-500万元; a number after a cap word — 最高不超过500万元 — is a
ceiling of the benefit, not a condition, and is no bound) and :func:`fit` how
the one meets the other.  The selector uses the result as features
(:mod:`policyqa.qa.features`); it is a signal learned from the tune data, not a
veto.  Words: ``qa/data/quantities.json`` (units) and ``corpus/data/items.json``
(comparison and cap words, shared with the policy items).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from policyqa.corpus.items import _cn_number, vocabulary

__all__ = ["Bound", "Fit", "Quantity", "bounds", "fit", "stated"]

DATA = Path(__file__).parent / "data" / "quantities.json"

_NUM = r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+"


@dataclass(frozen=True)
class Quantity:
    dim: str  # money (万元), people, percent, area (亩)
    value: float


@dataclass(frozen=True)
class Bound:
    """A threshold a clause sets: ``value`` ``op`` (>=, >, <=, <) in the dimension's base unit."""

    dim: str
    op: str
    value: float

    def holds(self, v: float) -> bool:
        return {">=": v >= self.value, ">": v > self.value, "<=": v <= self.value, "<": v < self.value}[self.op]


@dataclass(frozen=True)
class Fit:
    """How a question's quantities meet a clause's bounds of the same dimension.

    met: some bound holds for a stated quantity; unmet: the clause has bounds of a
    stated dimension and none holds; level: the highest lower bound met (the tier), or None."""

    met: bool = False
    unmet: bool = False
    level: float | None = None


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True, eq=False)
class _Words:
    number: re.Pattern  # NUM [个] UNIT
    scale: dict  # unit -> (dim, factor)
    op_before: dict
    op_before_re: re.Pattern
    op_after: dict
    op_after_re: re.Pattern
    cap_before: re.Pattern
    joiners: re.Pattern
    range_sep: re.Pattern


@lru_cache(maxsize=2)
def _words(path: str = str(DATA)) -> _Words:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    v = vocabulary().raw
    scale = {u: (dim, float(f)) for dim, units in d["units"].items() for u, f in units.items()}
    mw = re.escape(d.get("measure_word", "个"))
    return _Words(
        number=re.compile(rf"(?P<num>{_NUM})\s*(?:{mw})?\s*(?P<unit>{_alt(scale)})"),
        scale=scale,
        op_before=dict(v["op_before"]),
        op_before_re=re.compile(rf"(?:{_alt(v['op_before'])})\s*$"),
        op_after=dict(v["op_after"]),
        op_after_re=re.compile(rf"^\s*(?:级)?(?:{_alt(v['op_after'])})"),
        cap_before=re.compile(rf"(?:{_alt(v['cap_before'])})\s*$"),
        joiners=re.compile(rf"^(?:{_alt(d['list_joiners'])})$"),
        range_sep=re.compile(r"^\s*(?:-|—|–|~|～|至|到)\s*$"),
    )


def _numbers(text: str, w: _Words) -> list[tuple[int, int, Quantity, float]]:
    """(start, end, quantity, unit factor) of every number written with a unit."""
    out = []
    for m in w.number.finditer(text):
        val = _cn_number(m.group("num"))
        if val is None:
            continue
        dim, f = w.scale[m.group("unit")]
        out.append((m.start(), m.end(), Quantity(dim, val * f), f))
    return out


def stated(question: str) -> tuple[Quantity, ...]:
    """The quantities a question states (not those after a cap word: 「最高400万元吗」 asks about the cap)."""
    w = _words()
    return tuple(q for s, _, q, _ in _numbers(question, w) if not w.cap_before.search(question[max(0, s - 6) : s]))


_BARE_RANGE = re.compile(rf"({_NUM})\s*(?:-|—|–|~|～|至|到)\s*$")


def bounds(text: str) -> tuple[Bound, ...]:
    """The thresholds ``text`` sets (see the module doc)."""
    w = _words()
    nums = _numbers(text, w)
    out: list[Bound] = []
    list_op: str | None = None  # the op of a list being read (分别达到1亿元、5亿元)
    for i, (s, e, q, f) in enumerate(nums):
        before = text[max(0, s - 6) : s]
        gap = text[nums[i - 1][1] : s] if i else ""
        if w.cap_before.search(before):
            list_op = None
            continue
        op = None
        m = w.op_before_re.search(before)
        if m:
            op = w.op_before[m.group(0).strip()]
        elif list_op and w.joiners.match(gap.lstrip("级")):
            op = list_op
        a = w.op_after_re.match(text[e : e + 6])
        if a:
            op = w.op_after[a.group(0).strip().lstrip("级")]
        if i and w.range_sep.match(gap) and nums[i - 1][2].dim == q.dim:  # 100万元至500万元
            out += [Bound(q.dim, ">=", nums[i - 1][2].value), Bound(q.dim, "<=", q.value)]
        elif (r := _BARE_RANGE.search(text[max(0, s - 12) : s])) and (lo := _cn_number(r.group(1))) is not None:  # 100-500万元
            out += [Bound(q.dim, ">=", lo * f), Bound(q.dim, "<=", q.value)]
        elif op:
            out.append(Bound(q.dim, op, q.value))
        list_op = op if op in (">=", ">") else None
    return tuple(dict.fromkeys(out))


def fit(quantities: Sequence[Quantity], clause_bounds: Sequence[Bound]) -> Fit:
    dims = {q.dim for q in quantities}
    rel = [b for b in clause_bounds if b.dim in dims]
    if not rel:
        return Fit()
    held = [b for q in quantities for b in rel if b.dim == q.dim and b.holds(q.value)]
    if not held:
        return Fit(unmet=True)
    lows = [b.value for b in held if b.op in (">=", ">")]
    return Fit(met=True, level=max(lows) if lows else None)
