"""A question's abbreviation that no retrieved passage writes as such is searched also
with the full form a passage writes (工信部 → 工业和信息化部).  ``tests/data/abbreviations/``
is a county policy written for this test: four articles about 认定 and 奖励, one of them
about what 工业和信息化部 recognises, and it never writes 工信部."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.qa.cues import full_forms

DATA = Path(__file__).parent / "data" / "abbreviations"


@pytest.mark.parametrize("term,text,want", [
    ("小升规", "第八条 支持小微企业升规。对首次纳入规模以上工业统计的企业", "小微企业升规"),
    ("工信部", "经工业和信息化部认定的企业", "工业和信息化部"),
    ("规上企业", "培育规模以上企业100家", "规模以上企业"),
])
def test_the_full_form_of_an_abbreviation_keeps_its_characters_in_order(term, text, want):
    assert full_forms(term, text)[0] == want


@pytest.mark.parametrize("term,text", [
    ("小升规", "支持小升规工程"),  # the term itself is no full form
    ("上海市", "上午，上海市召开会议"),  # across a comma, or holding the term
    ("工信部", "工作要点由信息中心编制，报部里审定"),  # characters too far apart
    ("技改", "技术改造"),  # two characters: too short to tell from chance
    ("ERP系统", "ERP管理系统"),  # not all Chinese
])
def test_no_full_form_across_punctuation_far_apart_or_for_short_or_mixed_terms(term, text):
    assert full_forms(term, text) == ()


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["奖励", "认定", "企业"], tmp_path_factory.mktemp("abbr") / "index", threshold=0.0)


def test_an_abbreviation_is_searched_with_the_full_form_a_passage_writes(answerer):
    answerer._prepare()
    q = "溪山县工信部认定的企业奖励多少？"
    plain = answerer.retriever.search(q, k=4)  # BM25 on 认定/企业/奖励 alone: the shortest article first
    assert "工业和信息化部" not in plain[0].chunk.text
    top = answerer._search(q, k=4)
    assert "工业和信息化部" in top[0].chunk.text
    assert "50万元" in answerer.answer(q).text.split("\n来源：", 1)[0]


def test_a_word_a_passage_writes_as_it_is_is_not_expanded(answerer):
    answerer._prepare()
    q = "溪山县创新型中小企业奖励多少？"  # 创新型 and 中小企业 are written as such: one plain search
    assert [h.chunk.chunk_id for h in answerer._search(q, k=4)] == [h.chunk.chunk_id for h in answerer.retriever.search(q, k=4)]


def test_a_repetitive_question_word_and_passage_take_bounded_time():
    import time

    t0 = time.perf_counter()
    for n in (8, 10, 12, 40):  # the backtracking regex this replaced took 11 s at 10 characters and never ended at 12
        full_forms("哈" * (n - 1) + "嘿", "哈" * 599 + "嘿")
    assert time.perf_counter() - t0 < 2.0
