"""Eligibility and comparison questions in the chat, answered from policy items (issue 13).

Fixture documents written for these tests (tests/fixtures/eligibility): a
洛阳 policy (star-enterprise tiers on 入库税收, 小巨人 80万元, robots 20% capped
at 200万元), a 襄阳 one (小巨人 100万元) and a 南阳 one that names 小巨人
without any amount.  Retrieval is BM25 with a keyword fake embedder.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.eligibility import AskKind, Outcome, eligibility_answer, read_question
from policyqa.qa.service import make_answerer

FIXTURES = Path(__file__).parent / "fixtures" / "eligibility"
TODAY = lambda: date(2025, 6, 1)  # noqa: E731
LUOYANG = "luoyang_2024.txt"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    docs = list(load_corpus([str(FIXTURES)]).documents)
    chunks = chunk_documents(docs)
    return IndexStore.build(docs, chunks, KeywordEmbedder(["补贴", "奖励"]), jieba_tokenizer(),
                            tmp_path_factory.mktemp("elig") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)


@pytest.fixture(scope="module")
def answerer(store):
    return make_answerer(store, RetrievalConfig(mode="bm25"), today=TODAY, threshold=0.0)


# --- reading the question ---------------------------------------------------------------


def test_reads_the_profile_a_question_states(store):
    ask = read_question("我们是制造企业，去年入库税收1800万，能评市级星级企业吗", store.docs)
    assert ask.kind is AskKind.HONOUR
    assert ask.profile.tax_paid_wan == 1800 and ask.profile.revenue_wan is None
    assert "制造" in ask.profile.industry
    assert [(h.name, h.level) for h in ask.target_honours] == [("星级企业", "市级")]
    assert ask.profile.honours is None  # the honour asked about is not one held

    ask = read_question("我们在洛阳，去年营收头一回过了两个亿，能拿多少奖励", store.docs)
    assert ask.kind is AskKind.OPEN and ask.profile.revenue_wan == 20000  # 两个亿: 个 spoken between number and unit

    ask = read_question("营收1.2亿的机械零部件企业在洛阳能拿什么补贴", store.docs)
    assert ask.kind is AskKind.OPEN and ask.profile.revenue_wan == 12000
    assert "洛阳" in ask.profile.region and ask.region_from == "question"

    ask = read_question("我们有职工350人，已认定为高新技术企业，能申请哪些奖励", store.docs)
    assert ask.profile.employees == 350 and ask.profile.honours and "高新技术企业" in ask.profile.honours[0]

    ask = read_question("我们计划投资500万元购买工业机器人，能拿多少补贴", store.docs)
    assert ask.kind is AskKind.INVESTMENT
    assert [(i.kind, i.amount_wan) for i in ask.profile.planned_investments] == [("工业机器人", 500)]


@pytest.mark.parametrize("q", [
    "洛阳市对小巨人企业奖励多少",
    "企业购置工业机器人的补贴比例是多少",
    "高新技术企业能申请多少奖励？",  # no enterprise of its own, no fact: an ordinary question
    "申请专精特新小巨人需要什么材料",
    "我们公司能申请人才公寓吗",  # a named thing matching cannot judge
    "制造企业买工业机器人，设备投资要达到多少才能申请补助？",  # asks for the requirement itself
    "我们营收5000万，需要满足什么条件才能评五星级企业",
    "同一企业一年在洛阳最多能拿多少奖励",  # the per-enterprise cap: a rule, not an entitlement
    "洛阳对企业上市有没有奖励？完成辅导备案这一步能拿多少？",  # the enterprise is the rule's, in another sentence
    "车间里的老师傅刚考出技师证，在洛阳的厂里他能拿多少奖励？",  # an enterprise named by its place only: nothing to match on
    "我们是洛阳的企业，正在筹备上市，成功上市能拿多少？",  # an amount asked with no fact to compute from: the rule's amount
    "我们公司在洛阳，做工业设计的，评上省级工业设计中心能拿多少奖励？",  # a sector is no amount to compute from
])
def test_ordinary_questions_are_not_eligibility_questions(store, q):
    assert not read_question(q, store.docs).is_eligibility


@pytest.mark.parametrize("q", ["我们是洛阳的企业，能申请哪些补贴？", "洛阳的机械零部件企业能拿什么补贴？",
                               "我们在洛阳，去年入库税收1800万元，能拿多少奖励？"])  # an amount computed from a stated fact
def test_an_open_question_with_the_askers_own_firm_or_a_sector_is_matched(store, q):
    assert read_question(q, store.docs).kind is AskKind.OPEN


def test_conversation_region_is_used_when_the_question_names_none(store):
    ask = read_question("我们能申请哪些", store.docs, history_regions=["河南省洛阳市"])
    assert ask.profile.region == "河南省洛阳市" and ask.region_from == "conversation"


# --- answers ---------------------------------------------------------------------------------


def test_star_enterprise_question_marks_each_condition_and_cites(answerer, store):
    a = answerer.answer("我们是洛阳的制造企业，去年入库税收1800万，能评市级星级企业吗")
    assert a.kind == "eligibility" and not a.refused
    assert all(c.doc_id == LUOYANG for c in a.citations)
    ok = [s for s in a.statements if not s.label]
    failed = [s for s in a.statements if s.label == "条件不符"]
    assert any("30万元" in s.text and "✓" in s.text for s in ok)  # 四星: 入库税收1000万元以上, met by 1800
    assert any("50万元" in s.text and "✗" in s.text for s in failed)  # 五星: 2000万元以上, not met
    for s in a.statements:  # each statement cites the sentence that grants it
        cited = a.citations[s.n - 1]
        assert cited.text in store.chunks[cited.chunk_id].text
    assert "入库税收：1800万元" in a.text  # what the question gave
    j = a.to_json()
    assert j["decision"] == "answered" and j["eligibility"]["outcome"] == Outcome.APPLICABLE.value
    assert "tax_paid_wan" in j["eligibility"]["given"]


def test_open_question_lists_only_the_enterprises_region_and_says_what_is_missing(answerer):
    a = answerer.answer("我们公司在洛阳，能申请哪些政策")
    assert a.kind == "eligibility"
    assert a.citations and all(c.doc_id == LUOYANG for c in a.citations)  # never 襄阳's rule as applicable
    assert "问题没有提供" in a.text and "入库税收" in a.text


def test_investment_estimate_applies_rate_and_cap(answerer):
    a = answerer.answer("我们在洛阳，计划投资500万元购买工业机器人，能拿多少补贴")
    assert a.kind == "eligibility" and "约100万元" in a.text
    a = answerer.answer("我们在洛阳，计划投资1500万元购买工业机器人，能拿多少补贴")
    assert "约200万元" in a.text and "上限" in a.text


def test_region_of_the_conversation_carries_over(answerer):
    a = answerer.answer("我们能申请哪些", history=[{"question": "洛阳市对小巨人企业奖励多少", "answer": "80万元"}])
    assert a.kind == "eligibility" and all(c.doc_id == LUOYANG for c in a.citations)
    assert "沿用对话中的地区" in a.text


def test_without_a_region_every_item_is_labelled_with_its_own(answerer):
    a = answerer.answer("我们能申请哪些奖励")
    assert a.kind == "eligibility" and "没有说明企业所在地区" in a.text
    assert all(s.region for s in a.statements)


def test_another_regions_honour_item_is_only_reference(store):
    ask = read_question("我们在洛阳，能申请省级专精特新中小企业奖励吗", store.docs)
    a, outcome, _ = eligibility_answer("q", "q", ask, store.items.all_items(), store.docs, today=date(2025, 6, 1))
    assert outcome is Outcome.ONLY_ELSEWHERE  # only 襄阳 rewards it
    assert all(s.label.startswith("其他地区") for s in a.statements)


def test_an_honour_the_question_does_not_mention_needs_checking(answerer):
    # a question names some honours held, not all: 小巨人 is not ruled out by 高新技术企业
    a = answerer.answer("我们在洛阳，已认定为高新技术企业，能申请哪些奖励")
    giant = [s for s in a.statements if "小巨人" in s.text]
    assert giant and not giant[0].label and "?" in giant[0].text


def test_nothing_to_match_falls_back_to_the_ordinary_answer(answerer):
    a = answerer.answer("我们公司能享受哪些人才公寓政策")
    assert a.kind != "eligibility"


def test_ordinary_question_is_answered_the_ordinary_way(answerer):
    a = answerer.answer("洛阳市对国家级专精特新小巨人企业奖励多少")
    assert a.kind == "answer" and "eligibility" not in a.to_json()


# --- comparison -------------------------------------------------------------------------------


def test_comparison_from_items_one_cited_statement_per_region(answerer):
    a = answerer.answer("洛阳和襄阳对小巨人分别奖励多少")
    by_region = {}
    for s in a.statements:
        by_region.setdefault(s.region, []).append(s)
    luoyang = next(v for k, v in by_region.items() if "洛阳" in k)
    xiangyang = next(v for k, v in by_region.items() if "襄阳" in k)
    assert "80万元" in luoyang[0].text and "100万元" in xiangyang[0].text
    assert all(s.n for s in luoyang + xiangyang)
    assert a.citations[luoyang[0].n - 1].doc_id == LUOYANG
    assert "| 地区 |" in a.markdown
    j = a.to_json()
    assert {"question", "answer", "citations", "decision", "comparison"} <= set(j)


def test_a_region_naming_the_topic_without_any_figure_says_so(answerer):
    a = answerer.answer("洛阳、襄阳和南阳对小巨人分别奖励多少")
    nanyang = [s for s in a.statements if "南阳" in s.region]
    assert nanyang and "没有写明" in nanyang[0].text and nanyang[0].n  # cites the sentence that names it
    assert "comparison" in a.to_json()


def test_a_figure_items_do_not_read_leaves_the_comparison_to_the_passages(tmp_path):
    # 平川's figure sits in a table row the item extractor does not read: items cannot say "no figure"
    from policyqa.corpus.types import Chunk, DocMeta
    from policyqa.qa.eligibility import comparison_answer

    docs = list(load_corpus([str(FIXTURES)]).documents)
    metas = {d.doc_id: d.meta for d in docs}
    metas["t.txt"] = DocMeta(doc_id="t.txt", title="平川县优质企业奖励细则", region="甘肃省白银市平川区")
    chunks = chunk_documents(docs) + [Chunk(chunk_id="t.txt#1", doc_id="t.txt", text="序号\t类别\t奖励\n1\t国家级专精特新“小巨人”企业\t60万元",
                                            start=0, end=40, section="附表")]
    from policyqa.corpus.items import ItemCatalog

    items = ItemCatalog.build(metas, chunks).all_items()
    assert comparison_answer("q", "q", "小巨人", ["洛阳", "平川区"], items, metas, chunks) is None
    assert comparison_answer("q", "q", "小巨人", ["洛阳", "南阳"], items, metas, chunks) is not None


def test_comparison_without_item_topic_uses_the_ordinary_path(answerer):
    a = answerer.answer("洛阳和襄阳的政策分别什么时候施行")
    assert "comparison" not in a.to_json()


def test_a_failure_reading_items_falls_back_to_the_ordinary_answer(store):
    def broken():
        raise OSError("items unreadable")

    a = make_answerer(store, RetrievalConfig(mode="bm25"), today=TODAY, threshold=0.0)
    a.items = broken
    ans = a.answer("我们公司在洛阳，能申请哪些政策")
    assert ans.kind != "eligibility" and ans.decision != "invalid"


def test_an_ended_policy_is_listed_as_expired_not_replaced_by_other_regions(store):
    ask = read_question("我们在洛阳，去年营业收入达到1.5亿元，能拿多少奖励", store.docs)
    assert ask.profile.revenue_wan == 15000
    a, outcome, _ = eligibility_answer("q", "q", ask, store.items.all_items(), store.docs, today=date(2029, 6, 1))
    assert outcome is Outcome.EXPIRED  # the 洛阳 policy ran to 2028
    assert a.statements and all(s.label.startswith("已过期") and "洛阳" in s.region for s in a.statements)
    assert "20万元" in a.statements[0].text and "✓" in a.statements[0].text  # the item the stated revenue meets leads


def test_reading_money_takes_linear_time_on_a_run_of_spaces():
    """A number, a long run of spaces and no unit: one way to read the spaces (「10 个 亿」 with
    optional 个), not every split of them between two space groups."""
    import time

    from policyqa.qa.eligibility import load_eligibility_cues

    money = load_eligibility_cues().money
    text = "1" + " " * 4000 + "x"
    t0 = time.perf_counter()
    for _ in range(5):
        assert list(money.finditer(text)) == []
    assert time.perf_counter() - t0 < 0.2
