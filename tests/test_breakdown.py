from __future__ import annotations

import copy

from policyqa.eval.breakdown import breakdown, declined, summarize

DETAILS = [
    {"id": "a", "kind": "figure", "must_include": ["10万元"], "facts_found": [True], "refused": False, "out_of_corpus": False},
    {"id": "b", "kind": "figure", "must_include": ["5%", "上限"], "facts_found": [True, False], "refused": False, "out_of_corpus": False},
    {"id": "c", "kind": "list", "must_include": ["x"], "facts_found": [False], "refused": True, "out_of_corpus": False},
    {"id": "d", "kind": "ooc", "must_include": [], "facts_found": [], "refused": True, "out_of_corpus": True},
    {"id": "e", "kind": "ooc", "must_include": [], "facts_found": [], "refused": False, "region_note": "未覆盖该地区", "out_of_corpus": True},
    {"id": "f", "kind": "ooc", "must_include": [], "facts_found": [], "refused": False, "region_note": None, "out_of_corpus": True},
]
QUESTIONS = [{"id": "a", "doc": "new.txt"}, {"id": "b", "docs": ["old.txt"]}, {"id": "c", "doc": "old.txt"},
             {"id": "d"}, {"id": "e"}, {"id": "f"}]


def test_summary_counts_facts_refusals_and_declines():
    s = summarize(DETAILS)
    assert (s["n"], s["facts_n"], s["false_refusal_n"], s["ooc_declined_n"]) == (6, "1/3", "1/3", "2/3")
    assert s["facts_all"] == 0.333 and s["ooc_declined"] == 0.667


def test_breakdown_by_kind_and_group_without_mutating_inputs():
    before = copy.deepcopy((DETAILS, QUESTIONS))
    out = breakdown(DETAILS, QUESTIONS, frozenset({"new.txt"}))
    assert (DETAILS, QUESTIONS) == before
    assert out["by_kind"]["figure"]["facts_n"] == "1/2" and out["by_kind"]["list"]["false_refusal_n"] == "1/1"
    assert out["by_group"]["new-docs"]["facts_n"] == "1/1" and out["by_group"]["built-in"]["n"] == 5
    assert breakdown(DETAILS, QUESTIONS)["by_group"] == {}


def test_declined_is_a_refusal_or_a_region_lead():
    # an answer from national documents alone leads with 「知识库中没有…的地方政策文件」: declined
    assert declined(True, None) and declined(False, "知识库中没有浙江省杭州市的地方政策文件；以下是国家层面适用于各地的文件的规定。")
    assert not declined(False, None) and not declined(False, "")
