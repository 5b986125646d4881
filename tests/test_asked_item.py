"""A question asking a figure for an item whose document gives it none, while a sibling item
has one (「团体标准奖多少」 where the policy rewards 国家标准 and 行业标准 by amount and leaves
团体标准 to rules made later), is answered with the unit about the item asked, as a partial
answer: not with the sibling's amount (``ExtractiveComposer._item_asked``,
``features.item_words``).

``tests/data/asked_item/``: a county policy written for this test (汝阳县), each item without an
amount beside siblings with amounts: 团体标准 (另行制定), 境外上市 (一事一议), 创新型中小企业
(纳入培育库), 订单式培养 (另行制定); and units a question's situation words point to, which must
not take the rule's place: a definition (设备投资额以…不含税…为准) and a sibling about another
thing (数字化车间 beside 工业机器人).  ``tests/data/asked_item_figure/``: a county's listing
rewards (宜阳县), domestic by stages and abroad by one sum: a place abroad the question names
(香港) is what it asks about, not a place to take out before judging it on its topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer, jieba_tokenizer
from policyqa.qa.decision import Reason
from policyqa.qa.features import item_words, make_query

DATA = Path(__file__).parent / "data" / "asked_item"
DOC = "ruyang-gongye-2025.txt"
VOCABULARY = ["标准", "上市", "专精特新", "创新型", "技术改造", "设备", "机器人", "车间", "技能", "培养", "奖励", "补助"]


def _query(text: str):
    return make_query(text, jieba_tokenizer().tokenize, None)


def test_the_word_naming_the_item_is_found_only_beside_a_sibling():
    q = _query("主导制定团体标准奖多少钱？")
    sibling = "主导制定国家标准、行业标准的企业，每项分别给予一次性奖励50万元、20万元。"
    item = "主导制定团体标准的奖励办法，由县市场监督管理局会同县财政局另行制定。"
    assert item_words(q, item, sibling, [sibling]) == ["团体"]
    # a unit that does not state what the chosen one states is about something else, not a sibling
    assert item_words(q, "团体活动经费由工会另行制定。", sibling, [sibling]) == []
    # a unit stating the asked figure names everything the item names: the document gives it a figure
    figured = "主导制定团体标准的，每项奖励5万元。"
    assert item_words(q, item, sibling, [sibling, figured]) == []
    # nothing the chosen unit lacks
    assert item_words(q, sibling, sibling, [sibling]) == []


def test_never_mutates_or_needs_an_index():
    q = _query("境外上市奖励多少？")
    texts = ["对在沪深北证券交易所首发上市的企业，累计奖励300万元。", "企业赴境外上市的，由县人民政府“一事一议”确定支持方式。"]
    before = list(texts)
    assert item_words(q, texts[1], texts[0], [texts[0]]) == ["境外"]
    assert texts == before


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, VOCABULARY, tmp_path_factory.mktemp("asked_item") / "index", threshold=0.0)


@pytest.mark.parametrize("question, said", [
    ("汝阳县对主导制定团体标准的企业奖多少钱？", "另行制定"),
    ("我们准备去香港上市，汝阳县对境外上市奖励多少？", "一事一议"),
    ("公司刚被认定为创新型中小企业，汝阳县奖多少钱？", "培育库"),
    ("主导制定团体标准能奖多少钱？", "另行制定"),  # naming no place: the same
])
def test_an_item_without_a_figure_is_answered_with_its_own_unit(answerer, question, said):
    a = answerer.answer(question)
    assert a.decision == Reason.PARTIAL.value, a.text
    text = body(a)
    assert said in text and "没有写明" in text
    for sibling in ("50万元", "300万元", "100万元"):  # never a sibling's amount as if it were the item's
        assert sibling not in text
    assert {c.doc_id for c in a.citations} == {DOC}


@pytest.mark.parametrize("question, figure", [
    ("汝阳县技改买设备花了800万（不含税），按什么比例补？", "8%"),  # a definition of the sum is no item
    ("车间新上了几台工业机器人，汝阳县按多少比例补助？", "12%"),  # the asker's workshop is not the 数字化车间 item
    ("汝阳县主导制定国家标准的企业奖多少钱？", "50万元"),  # the item with the figure
])
def test_the_asker_s_situation_words_never_displace_the_rule(answerer, question, figure):
    a = answerer.answer(question)
    assert a.decision == Reason.ANSWERED.value, a.text
    assert figure in body(a)


def test_a_place_abroad_is_what_the_question_is_about_not_a_place_to_strip():
    """「去香港上市」: 香港 is the 境外 the documents write (cues.json abroad_places), kept when the
    asked place is taken out of the question to judge it on its topic."""
    from policyqa.qa.cues import load_cues
    from policyqa.qa.regions import strip_regions

    assert strip_regions("宿迁的企业去香港上市奖多少") == "的企业去上市奖多少"
    assert strip_regions("宿迁的企业去香港上市奖多少", keep=load_cues().abroad) == "的企业去香港上市奖多少"


@pytest.fixture(scope="module")
def listing(tmp_path_factory):
    return folder_answerer(Path(__file__).parent / "data" / "asked_item_figure", ["上市", "成功", "挂牌", "奖励"],
                           tmp_path_factory.mktemp("asked_item_figure") / "index", threshold=0.0)


@pytest.mark.parametrize("question", ["宜阳县的企业去香港成功上市，奖多少钱？", "在境外成功上市的话，宜阳县奖励多少？"])
def test_a_question_about_listing_abroad_gets_the_abroad_rule(listing, question):
    """「宜阳县的企业去香港成功上市」: judged without 宜阳县 but with 香港 (境外), the rule for listing
    abroad (150万元), not the domestic 成功上市 stage (200万元) the words 成功上市 match."""
    a = listing.answer(question)
    assert a.decision == Reason.ANSWERED.value, a.text
    assert "150万元" in body(a) and "200万元" not in body(a)

