"""A quote that opens an inline enumeration (「…三个渠道反映：一是…；二是…；三是…。」) is
quoted with all its items, not item one alone, and not past the sentence that holds them.
``tests/data/inline_enum/`` is a county rule written for this test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "inline_enum"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["渠道", "反映", "热线", "申报", "奖励"], tmp_path_factory.mktemp("enum") / "index", threshold=0.0)


@pytest.mark.parametrize("question, items, after", [
    ("临溪县企业有困难打什么电话反映？", ("在线提交", "0571-8888123", "3号键", "当面反映"), "5个工作日内办结"),
    ("临溪县申请技术改造补助怎么申报？", ("在线申报", "纸质材料"), "30个工作日内拨付"),
])
def test_a_quote_that_opens_an_enumeration_holds_every_item(answerer, question, items, after):
    text = body(answerer.answer(question))
    for item in items:
        assert item in text, text
    assert after not in text  # the sentence after the enumeration is another matter


def test_a_quote_without_an_enumeration_is_unchanged(answerer):
    text = body(answerer.answer("临溪县新认定的省级专精特新中小企业奖励多少？"))
    assert "20万元" in text and "渠道" not in text
