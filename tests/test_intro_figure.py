"""A quote that announces items (「…须符合以下条件：」) is completed with them for a list
question, but not when it states the figure a question asks and no list is asked.
``tests/data/intro_figure/`` is a county rule written for this test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer

DATA = Path(__file__).parent / "data" / "intro_figure"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["认定", "条件"], tmp_path_factory.mktemp("intro") / "index", threshold=0.0)


def _body(a):
    return a.text.split("\n来源：", 1)[0]


def test_an_intro_that_states_the_asked_time_is_not_expanded_into_its_items(answerer):
    body = _body(answerer.answer("和山县企业技术中心认定多长时间组织一次？"))
    assert "每年组织一次" in body
    assert "拥有专职研发人员" not in body  # the conditions it announces are another question


def test_a_list_question_still_gets_the_items_the_intro_announces(answerer):
    body = _body(answerer.answer("和山县申报企业技术中心需要满足哪些条件？"))
    for item in ("登记注册满2年", "不低于100万元", "10人以上"):
        assert item in body
