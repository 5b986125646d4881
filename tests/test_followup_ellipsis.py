"""A follow-up changing a level (「省级绿色工厂呢？」 after the 国家级 one) is answered from the
clause that gives that level, when the document writes it elliptically after the object
(「对新认定的国家级绿色工厂…一次性奖励60万元；新认定为省级的，一次性奖励25万元」): the clause names
the level, its sentence's earlier clauses the object; it is quoted with them, so the answer
says what the figure is for (``Answerer._names`` with the sentence before the clause).

``tests/data/followup_ellipsis/``: a district policy written for this test (伊川县), with a
sibling article that names the level and a similar object literally (省级智能工厂), which
must not be taken for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, converse, folder_answerer
from policyqa.qa.conversation import sentence_before

DATA = Path(__file__).parent / "data" / "followup_ellipsis"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["绿色工厂", "智能工厂", "技术改造", "奖励"], tmp_path_factory.mktemp("ellipsis") / "index", threshold=0.0)


def test_the_earlier_clauses_of_a_sentence():
    text = "第一条 支持绿色制造。对新认定的国家级绿色工厂，奖励60万元；新认定为省级的，奖励25万元。"
    assert sentence_before(text, text.index("新认定为省级")) == "对新认定的国家级绿色工厂，奖励60万元；"
    assert sentence_before(text, text.index("对新认定")) == ""
    assert sentence_before(text, 0) == ""


def test_a_level_written_after_its_object_answers_the_follow_up(answerer):
    first, then = converse(answerer, "伊川县评上国家级绿色工厂奖励多少？", "省级绿色工厂呢？")
    assert "60万元" in body(first)
    text = body(then)
    assert "25万元" in text and "绿色工厂" in text  # the level's figure, quoted with what it is for
    assert "40万元" not in text  # not the 省级智能工厂 article
    assert "没有写明" not in text
