"""A follow-up that changes one thing is answered about that thing.

``tests/data/followup/huzhou-2025.txt`` (written for these tests): a city
policy whose articles give the city's rate for digital upgrades, the districts'
matching share in a separate article, a national smart-factory award and a
city-level workshop award, and nothing for provincial smart factories.  When
the follow-up changes the level (区里, 省级) or the item, the answer must name
what changed — the article that does, or a plain "not stated" for it — and
never silently repeat the previous turn's rule.  BM25 with the keyword fake
embedder, the shipped selector, answerability threshold 0 (shape tests).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import converse, folder_answerer

DATA = Path(__file__).parent / "data" / "followup"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["数字化", "智能工厂", "车间", "配套"], tmp_path_factory.mktemp("followup") / "index", today=lambda: date(2026, 6, 1), threshold=0.0)


def body(a) -> str:
    return a.text.split("\n来源：", 1)[0]


def test_a_changed_level_is_answered_from_the_article_for_that_level(answerer):
    first, then = converse(answerer, "湖州对数字化改造项目按什么比例奖励？", "那区里呢？")
    assert "10%" in body(first)
    assert "1:0.5" in body(then)  # the districts' own article, not the city's rate again
    assert "10%" not in body(then)


def test_a_level_no_article_states_is_said_plainly_with_the_closest_rule(answerer):
    first, then = converse(answerer, "湖州新认定国家级智能工厂奖励多少？", "省级的呢？")
    assert "300万元" in body(first)
    lead = body(then).split("【", 1)[0]
    assert "没有写明" in lead and "省级" in lead  # says the level asked is not stated before quoting the closest rule
    assert not then.refused


def test_a_follow_up_whose_answer_names_the_change_is_left_alone(answerer):
    first, then = converse(answerer, "湖州新认定国家级智能工厂奖励多少？", "市级数字化车间呢？")
    assert "50万元" in body(then)
    assert "没有写明" not in body(then)


def _answerer(tmp_path_factory, folder: str, vocabulary):
    """The shape-test answerer (BM25, keyword fake embedder, threshold 0) over ``tests/data/<folder>``."""
    return folder_answerer(Path(__file__).parent / "data" / folder, vocabulary, tmp_path_factory.mktemp(folder) / "index",
                           today=lambda: date(2026, 6, 1), threshold=0.0)


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    return _answerer(tmp_path_factory, "followup_years", ["升规", "年度"])


@pytest.fixture(scope="module")
def nextyear(tmp_path_factory):
    """tests/data/nextyear (written for these tests): 次年 where a follow-up asks 第二年; who pays."""
    return _answerer(tmp_path_factory, "nextyear", ["升规", "专精特新"])


def test_an_ordinal_year_is_named_by_its_other_form(years):
    """「第二年呢」 is answered by the clause that says 「第二个年度」, without a 'not stated' lead."""
    first, then = converse(years, "安吉小微企业升规奖励多少？", "第二年呢？")
    assert "10万元" in body(first)
    assert "5万元" in body(then) and "没有写明" not in body(then)


def test_a_follow_up_naming_a_year_is_answered_where_the_text_says_next_year(nextyear):
    """「第二年」 asked, 「次年」 written: the follow-up is answered from that sentence, not
    told the document does not mention it."""
    first, then = converse(nextyear, "衢州小微企业升规奖多少？", "第二年还有吗？")
    assert "8万元" in body(first)
    assert "4万元" in body(then) and "没有提到" not in then.text and "没有写明「第二年" not in then.text


def test_a_follow_up_pointing_back_keeps_the_previous_topic(nextyear):
    first, then = converse(nextyear, "衢州新认定省级专精特新中小企业奖多少？", "这笔钱谁出？")
    assert "30万元" in body(first)
    assert "专精特新" in then.resolved_question and "没有提到" not in then.text


@pytest.fixture(scope="module")
def conditions_answerer(tmp_path_factory):
    """tests/data/conditions (written for these tests): rewards in one section, the conditions
    that apply to all of them in another, and a reward sentence that states its own condition."""
    return _answerer(tmp_path_factory, "conditions", ["单项冠军", "小巨人", "升规", "条件", "材料"])


def test_a_new_ask_is_not_answered_with_the_previous_quote_when_another_clause_is_about_it(conditions_answerer):
    first, then = converse(conditions_answerer, "金华评上国家级单项冠军奖多少？", "要什么条件？")
    assert "120万元" in body(first)
    assert "纳税关系在金华市" in body(then) and "120万元" not in body(then)


def test_a_reward_sentence_stating_its_own_condition_may_answer_the_new_ask(conditions_answerer):
    first, then = converse(conditions_answerer, "金华首次升规奖多少？", "要什么条件？")
    assert "8万元" in body(first)
    assert "2000万元" in body(then)  # its own condition stays in the answer
