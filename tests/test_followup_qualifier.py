"""A follow-up naming something the passage the previous answer quoted states alongside its rule
(「那山区乡镇呢？」 after an answer quoting 「主导产业年营业收入不低于30亿元，山区乡镇集聚区不低于12亿元」)
qualifies that rule: the previous question's topic is kept and the object added; a follow-up naming
what that passage does not state (「人才这块呢？」) is a new topic.  ``tests/data/qualifier/`` is a
county policy written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.followup import resolve
from policyqa.qa.types import Turn

DATA = Path(__file__).parent / "data" / "qualifier"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["营业收入", "集群", "补贴"], tmp_path_factory.mktemp("qualifier") / "index", threshold=0.0)


def _then(answerer, first: str, question: str):
    a = answerer.answer(first)
    return a, answerer.answer(question, history=[Turn(first, a.text, a.resolved_question)])


def test_an_object_the_quoted_passage_states_qualifies_the_previous_rule(answerer):
    first, then = _then(answerer, "松溪申报县级重点产业集群，主导产业年营业收入要多少？", "那山区乡镇呢？")
    assert "30亿元" in body(first)
    assert "主导产业" in then.resolved_question and "山区乡镇" in then.resolved_question, then.resolved_question
    assert "12亿元" in body(then), body(then)


def test_an_object_the_quoted_passage_does_not_state_is_a_new_topic(answerer):
    _, then = _then(answerer, "松溪申报县级重点产业集群，主导产业年营业收入要多少？", "人才这块呢？")
    assert "主导产业" not in then.resolved_question, then.resolved_question


def test_without_a_judge_of_qualifiers_a_new_object_replaces_the_topic():
    prev = "松溪申报县级重点产业集群，主导产业年营业收入要多少？"
    assert "主导产业" not in resolve("那山区乡镇呢？", prev)
    assert resolve("那山区乡镇呢？", prev, qualifies=lambda obj, topic: True).startswith("松溪申报县级重点产业集群，主导产业年营业收入，山区乡镇")
