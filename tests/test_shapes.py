"""Question shapes on county policies written for these tests.

``tests/data/shapes/qinghe-2025.txt``: a policy of 青禾县 — a county the
gazetteer does not know, as a user-added document would be — with 第N条
articles, amounts and caps, two enumerations split into passages (materials,
exclusions) and a closing clause assigning the articles to responsible units
by number.  ``tests/data/county/``: two versions of an 安吉县 policy and a
南康区 policy.  Questions are phrased here for the behaviour under test; none
comes from an evaluation set.  BM25 retrieval with a keyword fake embedder,
the service's wiring (``make_answerer``), threshold 0 (shapes, not refusals).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.articles import article_of, assignments
from policyqa.qa.decision import Decision, FollowupScope, Reason, lead_text
from policyqa.qa.followup import changed_object, resolve
from policyqa.qa.regions import asked_regions, docs_for, strip_regions
from policyqa.qa.service import make_answerer
from policyqa.qa.types import Turn

DATA = Path(__file__).parent / "data"
TODAY = lambda: date(2026, 6, 1)  # noqa: E731
VOCAB = ["奖励", "补助", "材料", "负责", "人才", "数字化", "研发"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    docs = list(load_corpus([DATA / "shapes", DATA / "county"]).documents)
    return IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(VOCAB), jieba_tokenizer(),
                            tmp_path_factory.mktemp("shapes") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)


@pytest.fixture(scope="module")
def answerer(store):
    return make_answerer(store, RetrievalConfig(mode="bm25"), today=TODAY, threshold=0.0)


def body(a) -> str:
    return a.text.split("\n来源：")[0]


# --- articles -------------------------------------------------------------------------------


def test_assignment_clauses_map_article_numbers_and_ranges_to_units():
    segs = assignments("第1条、第2条由县工信局负责；第3—5条由县科技局、县财政局负责；第六至八条由县商务局负责。")
    assert [(sorted(s.articles), s.units) for s in segs] == [
        ([1, 2], "县工信局"), ([3, 4, 5], "县科技局、县财政局"), ([6, 7, 8], "县商务局")]
    assert assignments("对企业给予奖励，由企业自行申报。") == []


def test_assignment_verbs_and_the_remaining_articles_come_from_the_cue_file():
    from policyqa.qa.articles import assigned
    from policyqa.qa.shapes import load_shapes

    s = load_shapes()
    text = "由相关主管部门按职责审核：第2条由县科技局审核，第4条、第5条由县商务局审核，其余条款由县经信局审核。"
    segs = assignments(text, s.assignment_verbs, s.remaining_articles)
    assert [(sorted(x.articles), x.units) for x in segs] == [([2], "县科技局"), ([4, 5], "县商务局"), ([], "县经信局")]
    assert assigned(segs, 5).units == "县商务局" and assigned(segs, 3).units == "县经信局"
    assert assignments(text) == []  # 负责 alone: no segment says 审核's unit
    # a unit that pays for articles is not the one responsible; 「其余」 without a named article is no clause
    assert assignments("第3条和第5条由县财政承担70%。", s.assignment_verbs, s.remaining_articles) == []
    assert assignments("其余条款由县经信局审核。", s.assignment_verbs, s.remaining_articles) == []


def test_a_long_article_list_no_verb_follows_fails_fast():
    # a document listing many articles before 「由…」 with no assignment verb in reach: each article
    # is read one way only (the pattern took 2^n steps: 20 articles 1.2 s, 40 articles hours)
    import time

    from policyqa.qa.shapes import load_shapes

    s = load_shapes()
    text = "第1条、" * 40 + "由县工信局会同县财政局研究制定实施细则。"
    t = time.perf_counter()
    assert assignments(text, s.assignment_verbs, s.remaining_articles) == []
    assert time.perf_counter() - t < 1.0


def test_article_number_from_the_section_path_or_the_text():
    assert article_of("二、支持创新 > 第十二条 支持研发", "") == 12
    assert article_of("前言", "第3条 对企业…") == 3
    assert article_of("一、总则", "对企业给予奖励") is None


def test_items_numbered_in_brackets_are_assigned_as_items_by_number():
    # a notice of 一、 sections and （一） items names its items 「第（三）项」 where a county policy says 「第三条」
    text = ("第（一）项、第（二）项由市工信局、市统计局负责；第（三）项至第（五）项、第（八）项由市科技局负责；"
            "第九项由市商务局负责。市财政局负责资金拨付。")
    segs = assignments(text)
    assert [(sorted(s.articles), s.units) for s in segs] == [
        ([1, 2], "市工信局、市统计局"), ([3, 4, 5, 8], "市科技局"), ([9], "市商务局")]
    assert article_of("一、培育企业 > （四）支持研发 > 1.", "") == 4  # the item of a sub-item
    assert article_of("三、保障 > （十二）规范兑现", "") == 12
    assert article_of("二、技改 > （五）支持技改 > （二）", "（二）对设备…") == 5  # the item, not its sub-item
    # in a document of articles, an article's own （一） sub-item does not replace the article's number
    assert article_of("第二章 > 第五条 支持范围 > （三）", "") == 5
    text = "第（1）项" * 40 + "由市工信局会同市财政局另行制定细则。"  # no verb in reach: still fails fast
    t = time.perf_counter()
    assert assignments(text) == []
    assert time.perf_counter() - t < 1.0


# --- responsible unit ------------------------------------------------------------------------


@pytest.mark.parametrize("question, unit, not_unit", [
    ("青禾县企业研发中心奖励由哪个部门负责？", "县科技局", "县数据局"),
    ("青禾县数字化车间奖励找哪个部门？", "县数据局", "县科技局"),
    ("青禾县企业家培训由哪个部门负责？", "县委人才办", "县数据局"),  # an article inside a range (第5—6条)
])
def test_responsible_unit_is_the_one_assigned_to_the_matching_article(answerer, question, unit, not_unit):
    a = answerer.answer(question)
    b = body(a)
    assert not a.refused and unit in b and not_unit not in b


@pytest.mark.parametrize("question, figure, unit", [
    ("青禾县新认定的省级企业研发中心奖多少？找哪个部门？", "25万元", "县科技局"),
    ("我们在青禾县，数字化车间评上市级了，奖励多少，由哪个部门负责？", "15万元", "县数据局"),
])
def test_a_question_asking_a_figure_and_who_is_responsible_gets_both(answerer, question, figure, unit):
    """Two asks in one question: the clause stating the figure, then the responsible unit."""
    b = body(answerer.answer(question))
    assert figure in b and unit in b
    assert b.index(figure) < b.index(unit)


def test_a_rule_found_on_its_topic_alone_is_answered_with_the_unit_assigned_to_it(answerer):
    """When the passages are judged about the question only on its topic (the figure kind asked not
    weighed: ``Answerer._partial``), a question asking who is responsible gets the unit the rule's
    article is assigned to, not the rule with 「no unit stated」."""
    q = answerer._query("青禾县企业研发中心谁负责？")
    hits = answerer._search("青禾县企业研发中心谁负责？", k=8)
    d = answerer._partial(q, hits, english=False)
    assert d is not None and not d.missing, d
    assert "县科技局" in " ".join(s.text for s in d.selected) and d.selected[0].kind == "note"


def test_responsible_unit_named_by_the_item_itself(answerer):
    a = answerer.answer("南康区技术改造补助由哪个单位牵头？")
    assert "区工信局" in body(a)


# --- lists ----------------------------------------------------------------------------------------


def test_a_list_question_gets_every_item_of_the_enumeration_in_order_without_the_intro(answerer):
    a = answerer.answer("青禾县申报奖励需要提交哪些材料？")
    b = body(a)
    items = ["奖励申请表", "营业执照复印件", "统计部门证明材料", "企业信用承诺书"]
    assert all(i in b for i in items)
    assert [b.index(i) for i in items] == sorted(b.index(i) for i in items)
    assert all(st.bullet for st in a.statements) and len(a.statements) == 4  # the intro 「…下列材料：」 is no item
    assert "安全生产事故" not in b  # the other enumeration of the document is not mixed in


def test_a_list_of_exclusions_comes_whole(answerer):
    b = body(answerer.answer("青禾县哪些情形的企业不予奖励？"))
    assert all(x in b for x in ("安全生产事故", "严重失信", "弄虚作假"))


# --- versions -------------------------------------------------------------------------------------


def test_the_newer_version_leads_unless_the_question_names_the_older_one(answerer):
    b = body(answerer.answer("安吉县首次认定国家级小巨人奖励多少？"))
    assert "80万元" in b and ("50万元" not in b or b.index("80万元") < b.index("50万元"))
    old = answerer.answer("安政发〔2021〕15号对首次认定国家级小巨人的企业奖励多少？")
    assert "50万元" in body(old) and old.citations[0].doc_id == "anji-2021.txt"


def test_a_version_named_by_its_year_right_after_the_place_is_the_one_answered(answerer):
    """「安吉2021年那版」: the year and version word go with the place (the topic is read
    without them), and still choose the older document."""
    b = body(answerer.answer("安吉2021年那版政策里首次认定国家级小巨人奖励多少？"))
    assert "50万元" in b and ("80万元" not in b or b.index("50万元") < b.index("80万元"))


# --- regions ----------------------------------------------------------------------------------------


def test_a_county_the_gazetteer_does_not_know_is_recognised_from_the_documents(store):
    regions = asked_regions("青禾县技改补助最多多少？", store.docs)
    assert [r.district for r in regions] == ["青禾县"]
    assert docs_for(regions[0], store.docs) == ["qinghe-2025.txt"]
    assert strip_regions("青禾技改补助最多多少？", store.docs) == "技改补助最多多少？"


def test_a_question_about_that_county_is_answered_from_its_own_document(answerer):
    a = answerer.answer("青禾县技术改造补助比例是多少？")
    assert a.decision == Reason.ANSWERED.value and "12%" in body(a)
    assert all(c.doc_id == "qinghe-2025.txt" for c in a.citations)


def test_another_county_is_not_answered_from_it(answerer):
    a = answerer.answer("南康区企业引进博士有生活补贴吗？")
    b = body(a)
    if "2000元" in b:  # another county's rule only with the explicit not-covered lead
        assert a.decision == Reason.REFUSED_REGION.value and b.startswith("江西省赣州市南康区的文件中没有找到")


# --- follow-ups -------------------------------------------------------------------------------------


@pytest.mark.parametrize("previous, question, resolved", [
    ("甲县企业入库税收首次过3000万奖多少？", "过1个亿呢？", "甲县企业入库税收首次过1个亿奖多少？"),  # a figure changes
    ("甲县技改设备投资5000万，按多少比例补？", "那设备投资800万呢？", "甲县技改设备投资800万，按多少比例补？"),
    ("乙市评上国家级小巨人市里奖多少", "那区里呢", "乙市评上国家级小巨人区里奖多少"),  # the word written in the same form
    ("丙县到2020年市级及以上研究中心要达到多少家", "省级以上的呢？", "丙县到2020年省级及以上研究中心要达到多少家"),
    ("乙市评上国家级小巨人奖多少", "省级专精特新呢？", "乙市评上省级专精特新奖多少"),  # a level with what it qualifies
    # … the whole word it qualifies, not the part the new words repeat (专精特新 of 专精特新小巨人)
    ("乙市新认定国家级专精特新小巨人奖多少", "省级专精特新呢？", "乙市新认定省级专精特新奖多少"),
    # a new category replaces the category the previous question named by its level, not joins it
    ("乙市评上省级专精特新小巨人奖多少", "创新型中小企业呢？", "乙市评上创新型中小企业奖多少"),
    ("乙市对国家级单项冠军企业奖多少", "小微企业呢？", "乙市对小微企业奖多少"),
    # who asks is added; a word sharing one character with the new one (工业 ~ 规上企业) is not replaced
    ("亭湖买工业机器人补贴几成", "规上企业呢？", "亭湖规上企业买工业机器人补贴几成"),
    ("甲县企业引进全职博士每月补贴多少？", "硕士呢", "甲县企业引进全职硕士每月补贴多少？"),  # a sibling by its shared half
    # a hypothetical framing (如果/要是 + the asker's firm + a copula) changes only the subject
    ("乙市评上省级专精特新小巨人奖多少", "如果我们只是创新型中小企业呢？", "乙市评上创新型中小企业奖多少"),
    ("甲县企业引进全职博士每月补贴多少？", "要是硕士呢", "甲县企业引进全职硕士每月补贴多少？"),
    # a changed object with an ask of its own: the object replaced, then that ask (the money word is the topic's)
    ("甲县企业引进全职博士每月补贴多少？", "硕士呢？要满足什么条件？", "甲县企业引进全职硕士每月补贴，要满足什么条件？"),
    # a new ask alone: the previous topic, its money word kept
    ("乙市吸纳就业补贴每人多少？", "要满足什么条件？", "乙市吸纳就业补贴要满足什么条件？"),
    ("乙市企业租用标准厂房有租金补贴吗？", "补贴标准是多少？", "乙市企业租用标准厂房有租金补贴标准是多少？"),  # the money word once
])
def test_a_follow_up_replaces_only_what_changed(previous, question, resolved):
    assert resolve(question, previous) == resolved


@pytest.mark.parametrize("previous, question, resolved", [
    # a word qualifying the previous ask (每年, 最晚, 大概: cues.json ask_qualifiers) is not its topic
    ("丙县专精特新培育库每年什么时候推荐入库？", "要什么条件？", "丙县专精特新培育库要什么条件？"),
    ("丙县技改项目最晚什么时候申报？", "谁负责？", "丙县技改项目谁负责？"),
    ("丙县数字化诊断大概多少钱？", "由谁出？", "丙县数字化诊断由谁出？"),
])
def test_the_topic_kept_ends_before_words_qualifying_the_previous_ask(previous, question, resolved):
    assert resolve(question, previous) == resolved


def test_a_question_read_in_context_keeps_the_previous_topic_without_its_ask_qualifiers():
    from policyqa.qa.followup import in_context

    assert in_context("进了库以后有专人对接吗？", "丙县培育库每年什么时候推荐入库？") == "丙县培育库，进了库以后有专人对接吗？"


@pytest.mark.parametrize("question, kept", [
    ("这笔钱谁出？", "这笔钱谁出"),  # a word pointing back names no new object
    ("这条归哪个部门管？", "归哪个部门管"),
    ("该项由谁负责？", "由谁负责"),
    ("要满足什么条件？", "要满足什么条件"),  # the verbs before the question word belong to the ask
    ("能领几年？", "能领几年"),  # so do receiving verbs (领, 拿, 享受)
    ("可以拿多少？", "可以拿多少"),
])
def test_a_follow_up_that_points_back_asks_about_the_previous_topic(question, kept):
    assert changed_object(question) == ""
    r = resolve(question, "丁县新认定省级工业设计中心奖多少？")
    assert r.startswith("丁县新认定省级工业设计中心") and kept in r


@pytest.mark.parametrize("question", ["有封顶吗？", "封顶多少？", "有没有上限？", "不超过多少？", "累计最多多少？"])
def test_a_follow_up_asking_a_cap_keeps_the_previous_topic(question):
    """Every cap word (qa/data/cues.json cap_words) refines the previous question: a cap asked
    alone names no new object (「有封顶吗？」 was read as the object 有封顶)."""
    r = resolve(question, "丁县新认定省级工业设计中心奖多少？")
    assert r.startswith("丁县新认定省级工业设计中心") and question.rstrip("？") in r


@pytest.mark.parametrize("question, kept", [
    ("这笔钱是县财政出吗？", "这笔钱是县财政出吗"),  # a yes/no question about it: no ask word, still the same topic
    ("这项奖励要交税吗？", "这项奖励要交税吗"),
    ("这条现在还有效吗？", "这条现在还有效吗"),
])
def test_a_question_that_points_back_without_an_ask_word_keeps_the_previous_topic(question, kept):
    r = resolve(question, "丁县新认定省级工业设计中心奖多少？")
    assert r.startswith("丁县新认定省级工业设计中心") and kept in r


@pytest.mark.parametrize("question, resolved", [
    ("现在2024年的新政策呢？", "甲县2024年那版措施里技改补助多少？"),  # a year and words naming a version: that year's
    ("2024年版的呢？", "甲县2024年那版措施里技改补助多少？"),
    ("新版呢？", "甲县措施里技改补助多少？"),  # the version in force: no year choosing an older one
    ("现在的政策呢？", "甲县措施里技改补助多少？"),
])
def test_a_follow_up_naming_only_a_version_changes_only_the_version(question, resolved):
    assert resolve(question, "甲县2021年那版措施里技改补助多少？") == resolved


@pytest.mark.parametrize("question, obj", [("第二年还有吗？", "第二年"), ("规上企业也有吗？", "规上企业"), ("人才这块呢？", "人才"),
                                           ("那节能呢？", "节能"), ("储能项目也有吗？", "储能项目"), ("国有企业呢？", "国有企业")])
def test_the_ask_words_after_a_changed_object_are_not_part_of_it(question, obj):
    assert changed_object(question) == obj


def test_a_follow_up_changing_a_level_is_answered_within_the_previous_documents(answerer):
    a = answerer.answer("那市级的呢？", history=[Turn("青禾县新认定省级数字化车间奖励多少？")])
    assert "没有提到" not in a.text and "15万元" in body(a)


def test_a_follow_up_about_something_absent_says_so_with_a_typed_scope(answerer):
    a = answerer.answer("那光伏呢？", history=[Turn("青禾县技术改造补助比例是多少？")])
    assert "没有提到「光伏」" in a.text
    d = Decision(Reason.ANSWERED, followup=FollowupScope.NOT_IN_PREVIOUS, followup_object="光伏", followup_docs=("某政策",))
    assert lead_text(d).startswith("上一个问题所依据的《某政策》没有提到「光伏」")
    assert lead_text(Decision(Reason.ANSWERED, followup=FollowupScope.WITHIN, followup_object="省级")) == ""
    assert not re.search(r"\[\d\]", lead_text(d))


# --- partial answers ---------------------------------------------------------------------------------


def _stub_answerable(coef_by_feature: dict, intercept: float):
    import numpy as np

    from policyqa.qa.features import ANSWERABILITY_FEATURES
    from policyqa.qa.model import LinearModel

    n = len(ANSWERABILITY_FEATURES)
    coef = np.zeros(n)
    for name, v in coef_by_feature.items():
        coef[ANSWERABILITY_FEATURES.index(name)] = v
    return LinearModel("answerable", ANSWERABILITY_FEATURES, np.zeros(n), np.ones(n), coef, intercept, {"threshold": 0.5})


@pytest.fixture(scope="module")
def jiahe(tmp_path_factory):
    """A two-article county policy: one article without any amount."""
    root = tmp_path_factory.mktemp("jiahe")
    (root / "docs").mkdir()
    (root / "docs" / "jiahe-2025.txt").write_text(
        "嘉禾县人民政府关于支持企业发展的若干措施\n\n嘉政发〔2025〕2号\n\n"
        "第一条 支持企业家培训。组织企业家赴知名高校参加专题培训，所需费用由县财政全额承担。\n\n"
        "第二条 支持企业参加展会。企业参加县政府组织的展会的，按展位费的50%给予补助。\n\n"
        "嘉禾县人民政府\n2025年1月6日\n", encoding="utf-8")
    docs = list(load_corpus([root / "docs"]).documents)
    return IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(VOCAB), jieba_tokenizer(), root / "ix",
                            chunker_settings=ChunkerConfig().to_dict(), progress=False)


def test_topic_found_without_the_amount_is_a_partial_answer_not_a_refusal(jiahe):
    """An answerability model that, like a fitted one can, refuses whenever the asked
    figure is absent from the top passages: the topic alone is judged again, and the
    closest clause comes with a plain "not stated" (Reason.PARTIAL), not a refusal."""
    answerer = make_answerer(jiahe, RetrievalConfig(mode="bm25"), today=TODAY)
    answerer.answerable, answerer.threshold = _stub_answerable({"asked_absent": -4.0}, 2.0), 0.5
    a = answerer.answer("企业家去高校培训，每人补贴多少钱？")
    b = body(a)
    assert a.decision == Reason.PARTIAL.value and not a.refused
    assert b.startswith("文件中没有写明这项的具体金额") and "县财政全额承担" in b and "50%" not in b


def test_a_follow_up_within_the_previous_documents_is_answered_from_the_clause_naming_it(jiahe):
    answerer = make_answerer(jiahe, RetrievalConfig(mode="bm25"), today=TODAY)
    answerer.answerable, answerer.threshold = _stub_answerable({}, -5.0), 0.5  # the general judgement refuses everything
    assert answerer.answer("嘉禾县企业家培训费用谁承担？").refused
    a = answerer.answer("那展会呢？", history=[Turn("嘉禾县企业家培训费用谁承担？")])
    assert not a.refused and "展位费的50%" in body(a) and "没有提到" not in a.text
    b = answerer.answer("那光伏呢？", history=[Turn("嘉禾县企业家培训费用谁承担？")])
    assert b.refused and "没有提到「光伏」" in b.text  # nothing names it: said so, never another clause passed off


def test_a_clause_naming_its_body_is_never_said_to_lack_the_unit(answerer):
    from policyqa.qa.shapes import load_shapes

    s = load_shapes()
    assert s.unit_marker.search("市数据管理局负责平台的建设运行；")
    assert not s.unit_marker.search("市政府负责同志每月调度一次")
    a = answerer.answer("青禾县企业家培训的费用由谁负责？")
    assert "没有写明这项的负责单位" not in a.text or "由县财政全额承担" not in body(a)


def test_an_intro_with_semicolon_items_is_listed_whole():
    from policyqa.corpus.types import Chunk
    from policyqa.index.types import Hit
    from policyqa.qa.compose import Selected
    from policyqa.qa.shapes import items_after_intro

    text = "（四）出库管理。入库企业有下列情形之一的，调出培育库：营业收入连续下降的；发生重大事故的；迁出本县的。其他事项另行规定。"
    h = Hit(Chunk("d#4", "d", "二、管理 > （四）出库管理", text, 0, len(text)), 1.0, 1)
    first = text.index("入库企业")
    sel = Selected(h, text[first : text.index("；") + 1], 0.9, start=first)
    items = items_after_intro(None, sel, lambda d: [h.chunk])
    assert [i.text for i in items] == ["营业收入连续下降的", "发生重大事故的", "迁出本县的。"]
    assert items_after_intro(None, Selected(h, "其他事项另行规定。", 0.9, start=text.index("其他")), lambda d: [h.chunk]) == []


def test_a_quote_announcing_items_is_completed_with_them(answerer):
    a = answerer.answer("青禾县有什么情形不予奖励")
    b = body(a)
    assert all(x in b for x in ("安全生产事故", "严重失信", "弄虚作假"))


def test_an_english_question_names_the_knowledge_bases_places_in_pinyin(store):
    pytest.importorskip("pypinyin")
    regions = asked_regions("How much does Anji County award a new national little giant?", store.docs)
    assert [r.district for r in regions] == ["安吉县"]
    assert [r.district for r in asked_regions("What does Qinghe County give for a digital workshop?", store.docs)] == ["青禾县"]
    assert asked_regions("How much does the county award?", store.docs) == []
    assert "Anji" not in strip_regions("How much does Anji County award?", store.docs)


# --- questions about a document itself ------------------------------------------------------------


def test_document_facts_are_asked_only_about_a_document():
    from policyqa.qa.shapes import asked_document_facts

    assert asked_document_facts("这个办法哪天印发的，哪个单位发的？") == ("date", "issuer")
    assert asked_document_facts("这套政策有效期到什么时候") == ("validity",)
    assert asked_document_facts("企业认定有效期多长") == ()  # a rule's validity, not the document's
    assert asked_document_facts("以前那个政策还管用吗") == ("validity",)  # whether an older version still applies


def test_the_validity_of_a_document_says_which_policy_it_repealed():
    from policyqa.corpus.types import DocMeta
    from policyqa.qa.shapes import document_fact_text

    new = DocMeta(doc_id="b", title="乙县若干措施", doc_number="乙政发〔2024〕3号", validity="自2024年5月1日起施行",
                  valid_from="2024-05-01", repeals="原《乙县若干措施》（乙政发〔2021〕9号）同时废止。")
    text, missing = document_fact_text(new, ("validity",))
    assert "2024-05-01" in text and "乙政发〔2021〕9号）同时废止" in text and not missing
    text, _ = document_fact_text(replace(new, repeals=""), ("validity",))
    assert "废止" not in text


def test_a_question_about_the_document_is_answered_from_its_metadata_cited(answerer):
    a = answerer.answer("青禾县这个政策什么时候施行，有效期到哪天？")
    b = body(a)
    assert a.decision == Reason.ANSWERED.value and "2025年3月1日" in b and "2027年12月31日" in b
    assert a.citations[0].doc_id == "qinghe-2025.txt" and "青政发〔2025〕6号" in b
    b = body(answerer.answer("青禾县这个文件是哪天印发的，哪个单位发的？"))
    assert "2025年2月10日" in b and "青禾县人民政府" in b


@pytest.fixture(scope="module")
def titled(tmp_path_factory):
    docs = list(load_corpus([DATA / "titled"]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(VOCAB), jieba_tokenizer(),
                             tmp_path_factory.mktemp("titled") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)
    return make_answerer(store, RetrievalConfig(mode="bm25"), today=TODAY, threshold=0.0)


@pytest.mark.parametrize("question, doc_id, date_text, other_date", [
    # the other document has a clause on the asked topic (ranked first); this one's title names it
    ("这个绿色制造的政策从哪天开始执行？", "lingtan-lvse-2025.txt", "2025年7月1日", "2025年4月1日"),
    ("绿色制造那个文件哪天开始施行？", "lingtan-lvse-2025.txt", "2025年7月1日", "2025年4月1日"),
    ("稳增长那个文件什么时候开始执行？", "songxi-gongye-2025.txt", "2025年4月1日", "2025年7月1日"),
])
def test_a_document_named_by_words_of_its_title_is_the_one_whose_date_is_given(titled, question, doc_id, date_text, other_date):
    a = titled.answer(question)
    assert a.citations and a.citations[0].doc_id == doc_id
    assert date_text in body(a) and other_date not in body(a)


def test_a_version_named_by_its_year_is_answered_from_that_version(answerer):
    a = answerer.answer("安吉县2021年那版政策对首次认定国家级小巨人的企业奖励多少？")
    assert "50万元" in body(a) and a.citations[0].doc_id == "anji-2021.txt"


@pytest.mark.parametrize("question", ["如果企业在戊县新建工厂，设备投资能拿多少补贴？", "假如公司评上国家级小巨人，戊县奖励多少钱？"])
def test_a_question_opening_with_if_that_names_its_own_topic_starts_fresh(question):
    from policyqa.qa.followup import is_followup

    assert not is_followup(question)
    assert resolve(question, "甲县企业引进全职博士每月补贴多少？") == question


def test_a_county_from_the_documents_beside_a_nested_gazetteer_place(store):
    # 盐城 and 亭湖区 are two mentions, one inside the other: the nested one is kept, and the
    # county only the documents know is a place of its own (this raised AttributeError before)
    regions = asked_regions("青禾县和盐城亭湖区的技改补助分别是多少？", store.docs)
    assert sorted(r.district for r in regions) == ["亭湖区", "青禾县"]


def test_a_county_only_the_documents_know_joined_to_another_place_is_a_comparison(answerer):
    # no comparison word: the two places joined by 和 make it one, also when one of them is a
    # county the gazetteer does not know (one row per place; before, only 安吉's rule was quoted)
    b = body(answerer.answer("首次进规模以上的企业，青禾和安吉各奖多少？"))
    assert "15万元" in b and "10万元" in b
    assert "青禾县】" in b and "安吉县】" in b
    assert b.index("青禾县】") < b.index("安吉县】")  # rows in the order the question names the places


def _article_chunk(i: int, section: str, text: str):
    from policyqa.corpus.types import Chunk

    return Chunk(chunk_id=f"c{i}", doc_id="d", section=section, text=text, start=i * 100, end=i * 100 + len(text), header="")


def test_the_article_about_a_questions_topic_is_found_by_its_words():
    from policyqa.qa.features import make_query
    from policyqa.qa.shapes import topic_article

    chunks = [_article_chunk(1, "一、做大做强 > 第3条 支持技术改造", "对技术改造项目按设备投资额的9%给予补助。"),
              _article_chunk(2, "二、创新 > 第8条 鼓励研发投入", "按研发费用较上年增长部分的12%给予奖励。"),
              _article_chunk(3, "三、保障 > 第18条 申报程序", "第8条由县科技局审核，其余条款由县经信局审核。")]
    q = make_query("研发费用增长的奖励由哪个部门审核？", list, None)
    assert topic_article(q, chunks, exclude=18) == 8
    assert topic_article(make_query("技术改造补助由谁审核？", list, None), chunks, exclude=18) == 3
    assert topic_article(make_query("企业上市奖励由谁审核？", list, None), chunks, exclude=18) is None  # no article is about it


def test_a_question_about_the_assignment_article_itself_finds_no_other_topic():
    from policyqa.qa.features import bigrams, make_query
    from policyqa.qa.shapes import topic_article

    procedure = _article_chunk(3, "三、保障 > 第18条 申报程序", "企业每年5月31日前提交申报材料，第8条由县科技局审核，其余条款由县经信局审核。")
    chunks = [_article_chunk(1, "一、做大做强 > 第3条 支持技术改造", "申报材料须齐全，按设备投资额的9%给予补助。"), procedure]
    q = make_query("申报材料每年什么时候提交？", list, None)
    own = len(q.bigrams & bigrams(procedure.section + procedure.text))
    assert topic_article(q, chunks, exclude=18) == 3  # 申报 alone would point to 第3条 …
    assert topic_article(q, chunks, exclude=18, above=own) is None  # … but the procedure article says more


@pytest.mark.parametrize("first,then,place,figure", [
    ("安吉县首次入选规模以上工业企业奖励多少？", "那青禾呢？", "青禾县", "15万元"),  # to a county only the documents know
    ("青禾县首次纳入规模以上工业统计奖励多少？", "那安吉呢？", "安吉县", "10万元"),  # … and from one
])
def test_a_follow_up_naming_a_documents_own_county_replaces_the_place(answerer, first, then, place, figure):
    a = answerer.answer(then, history=[Turn(first)])
    assert place[:2] in a.resolved_question and ({"青禾", "安吉"} - {place[:2]}).pop() not in a.resolved_question
    assert figure in body(a) and f"{place}】" in body(a)
    assert "没有提到" not in body(a)  # a changed place is no object the previous documents lack
