"""A question's own figures against a clause's thresholds (qa.quantities; own sentences, not test questions)."""

from __future__ import annotations

import pytest

from policyqa.qa.candidates import candidates
from policyqa.qa.features import CANDIDATE_FEATURES, candidate_features
from policyqa.qa.quantities import Bound, Quantity, bounds, fit, stated
from tests.test_selection_features import _hit, _query

COL = {n: i for i, n in enumerate(CANDIDATE_FEATURES)}


@pytest.mark.parametrize("q,want", [
    ("厂房投资六百万元能补多少？", (Quantity("money", 600.0),)),
    ("营业收入过2个亿呢", (Quantity("money", 20000.0),)),
    ("员工有80人，能申请吗", (Quantity("people", 80.0),)),
    ("研发投入增长15%以上的奖多少", (Quantity("percent", 15.0),)),
    ("最高400万元吗？", ()),  # asks about the cap: no figure of the enterprise's
    ("2023年新认定的企业奖多少？", ()),  # a year is no quantity
])
def test_the_figures_a_question_states(q, want):
    assert stated(q) == want


@pytest.mark.parametrize("text,want", [
    ("对固定资产投资2000万元以上的项目，按投资额的5%给予补助，单个项目最高不超过200万元。", {Bound("money", ">=", 2000.0)}),
    ("年主营业务收入不低于5000万元且研发人员不少于30人的企业", {Bound("money", ">=", 5000.0), Bound("people", ">=", 30.0)}),
    ("销售收入分别达到5亿元、10亿元、20亿元的，分别奖励10万元、20万元、30万元。",
     {Bound("money", ">=", 50000.0), Bound("money", ">=", 100000.0), Bound("money", ">=", 200000.0)}),
    ("投资额在300-1000万元的项目", {Bound("money", ">=", 300.0), Bound("money", "<=", 1000.0)}),
    ("给予一次性奖励50万元。", set()),  # an amount granted, not a condition
    ("每家企业累计不超过100万元。", set()),  # a cap of the benefit
])
def test_the_thresholds_a_clause_sets(text, want):
    assert set(bounds(text)) == want


def test_fit_names_the_highest_threshold_met_and_a_clause_whose_threshold_is_not_met():
    low, high = bounds("投资500万元以上的，补助6%"), bounds("投资2000万元以上的，补助9%")
    q = stated("投资1200万元的项目补几个点")
    assert fit(q, low).met and fit(q, low).level == 500.0
    assert fit(q, high).unmet and not fit(q, high).met
    assert fit(q, bounds("给予奖励30万元")) == fit((), low) == fit(q, ())  # nothing comparable: no signal


def test_the_tier_feature_marks_the_highest_tier_the_question_meets():
    hits = [_hit("对设备投资300万元以上的技改项目，按设备投资额的6%给予补助；设备投资1500万元以上的，按设备投资额的9%给予补助，"
                 "单个项目最高不超过600万元。", 1, "t1")]
    cands = candidates(hits)
    for amount, want in (("900万元", "6%"), ("2000万元", "9%")):
        X = candidate_features(_query(f"某县技改设备投资{amount}，按什么比例补助？"), hits, cands)
        tiered = [c.text for c, row in zip(cands, X) if row[COL["qty_fit"]] == 1.0 and c.kind != "clause"]
        unmet = [c.text for c, row in zip(cands, X) if row[COL["qty_fit"]] == -1.0]
        assert tiered and all(want in t for t in tiered)
        if amount == "900万元":
            assert unmet and all("9%" in t for t in unmet)


def test_without_a_stated_figure_the_quantity_features_are_zero():
    hits = [_hit("对设备投资300万元以上的技改项目，按设备投资额的6%给予补助。", 1, "t1")]
    X = candidate_features(_query("某县技改按什么比例补助？"), hits, candidates(hits))
    assert not X[:, COL["qty_fit"]].any()
