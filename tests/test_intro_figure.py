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



def test_an_intro_whose_figure_is_a_threshold_is_completed_for_a_cap_question(answerer):
    """「投资额200万元以上的…按以下标准给予补助：」 states an amount, but a threshold: quoted alone for
    「最多能拿多少」 it would answer nothing; completed with the items it announces, it holds the cap."""
    from policyqa.qa.compose import Selected

    hit = next(h for h in answerer._search("技术改造 按以下标准给予补助", k=8) if "按以下标准给予补助" in h.chunk.text)
    intro = "对设备投资额200万元以上的技术改造项目，按以下标准给予补助："
    sel = Selected(hit, intro, 1.0, start=hit.chunk.text.index(intro))
    got, shape = answerer._complete_intro([sel], "single", answerer._query("和山县技改补助一个项目最多能拿多少？"))
    assert shape == "list" and any("300万元" in s.text for s in got)
    same, shape = answerer._complete_intro([sel], "single", answerer._query("和山县技改项目设备投资额多少以上才能申请补助？"))
    assert shape == "single" and same == [sel]  # the threshold asked: the intro answers
