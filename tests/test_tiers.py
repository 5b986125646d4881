"""A sum the asker states picks the tier of a rule in tiers (``policyqa.qa.tiers``)."""

from __future__ import annotations

import pytest

from policyqa.corpus.types import Chunk
from policyqa.index.types import Hit
from policyqa.qa.tiers import amount_ranges, applies, stated_amounts

INF = float("inf")


@pytest.mark.parametrize("question, amounts", [
    ("厂里设备一共买了两千来万，补几个点？", (2000.0,)),
    ("软件加实施花了两百六十多万", (260.0,)),
    ("投资差不多1.5亿", (15000.0,)),
    ("准备投两个亿", (20000.0,)),
    ("技改补助比例是多少？", ()),
])
def test_sums_are_read_as_spoken(question, amounts):
    assert stated_amounts(question) == amounts


@pytest.mark.parametrize("text, ranges", [
    ("2. 设备投资额800万元（含）至4000万元的，按9%给予补助；", ((800.0, 4000.0),)),
    ("设备投资额6000万元以上的，补助比例提高到12%。", ((6000.0, INF),)),
    ("对年营业收入不足1500万元的小微企业，给予贴息。", ((0.0, 1500.0),)),
    ("设备投资额200万元至1000万元（不含）的，按6%补助；1000万元及以上的，按9%补助；", ((200.0, 1000.0), (1000.0, INF))),
    ("单个项目补助最高不超过300万元。", ()),  # a cap is no condition on the asker's sum
    ("按设备投资额的10%给予补助。", ()),
])
def test_amount_conditions_are_read_but_caps_are_not(text, ranges):
    assert amount_ranges(text) == ranges


def test_applies_is_unknown_without_a_range_and_counts_bounds_inside():
    assert applies((2000.0,), ()) is None and applies((), ((0.0, 1.0),)) is None
    assert applies((1000.0,), ((200.0, 1000.0),)) is True
    assert applies((2000.0,), ((200.0, 1000.0),)) is False


def _item(text: str, n: int) -> Hit:
    section = f"二、支持技术改造 > （三）设备补助 > {n}."
    ch = Chunk(chunk_id=f"t{n}", doc_id="county", section=section, text=text, start=0, end=len(text), header="《某县办法》 " + section)
    return Hit(chunk=ch, score=1.0 / n, rank=n, dense_score=0.9, dense_rank=n, sparse_score=1.0, sparse_rank=n)


def test_the_tier_holding_the_stated_sum_is_quoted_not_the_best_ranked_one():
    from policyqa.qa.compose import ExtractiveComposer

    hits = [
        _item("1. 设备投资额200万元（含）至800万元的，按设备投资额的6%给予补助；", 1),
        _item("2. 设备投资额800万元（含）至4000万元的，按设备投资额的9%给予补助；", 2),
        _item("3. 设备投资额4000万元（含）以上的，按设备投资额的12%给予补助。", 3),
    ]
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    for question, rate in (("我们技改设备投资两千来万，按几个点补助？", "9%"), ("技改设备投资五千万，按几个点补助？", "12%"),
                           ("技改设备投资300万，按几个点补助？", "6%")):
        got = comp.select(comp.score(comp.query(question), hits))
        assert got and rate in got[0].text, (question, got[0].text if got else None)


def test_reading_sums_and_ranges_takes_linear_time_on_a_run_of_spaces():
    """A sum followed by a long run of spaces: one way to read the spaces (no two adjacent
    space groups), so a scan stays fast (two such groups took quadratic time)."""
    import time

    for text in ("投资额300万元" + " " * 32000 + "x", "达到300万元" + " " * 32000 + "x", "300" + " " * 32000 + "x"):
        amount_ranges.cache_clear()
        stated_amounts.cache_clear()
        t0 = time.perf_counter()
        assert amount_ranges(text) == ()  # no condition clause (「…的」) follows the sum
        stated_amounts(text)
        assert time.perf_counter() - t0 < 0.1
