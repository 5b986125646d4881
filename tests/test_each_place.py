"""A question asking a figure that names no place, over the documents of several places, gets the
rule of each place whose rule covers as much of it as any, each labelled with its place, after a
lead saying the question names no place and the rules differ; a question naming a place, or one
whose topic only one place's documents state, gets that one rule.  ``tests/data/each_place/`` holds
two county policies written for these tests, with the same rules at different amounts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "each_place"
VOCAB = ["奖励", "补助", "规模以上"]
TODAY = lambda: date(2026, 6, 1)  # noqa: E731


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, VOCAB, tmp_path_factory.mktemp("each_place") / "index", today=TODAY, threshold=0.0)


def test_a_figure_asked_without_a_place_gets_each_places_rule_labelled(answerer):
    a = answerer.answer("首次纳入规模以上工业统计的企业奖励多少？")
    b = body(a)
    assert "12万元" in b and "15万元" in b, b
    assert "【江西省赣州市信丰县】" in b and "【湖南省岳阳市平江县】" in b
    assert b.startswith("问题没有说明企业所在地区")  # said before the rules, not left to the labels
    assert {c.doc_id for c in a.citations} == {"xinfeng-gongye-2025.txt", "pingjiang-gongye-2025.txt"}


def test_a_place_named_gets_its_own_rule_only(answerer):
    b = body(answerer.answer("信丰县首次纳入规模以上工业统计的企业奖励多少？"))
    assert "12万元" in b and "15万元" not in b, b
    assert "问题没有说明" not in b


def test_a_topic_one_place_states_gets_that_place_only(answerer):
    b = body(answerer.answer("新建脐橙精深加工生产线补助比例是多少？"))
    assert "6%" in b and "平江县" not in b, b
    assert "问题没有说明" not in b


def test_one_place_only_when_set_so(tmp_path):
    single = folder_answerer(DATA, VOCAB, tmp_path / "index", today=TODAY, threshold=0.0, each_place=1)
    b = body(single.answer("首次纳入规模以上工业统计的企业奖励多少？"))
    assert ("12万元" in b) != ("15万元" in b), b
