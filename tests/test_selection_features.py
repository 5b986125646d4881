"""Question cues and per-question relative candidate features (general behaviour, own sentences)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from policyqa.corpus.types import Chunk
from policyqa.index.types import Hit
from policyqa.qa.candidates import candidates, clause_candidates
from policyqa.qa.cues import asked_kinds, asks_list, comparison_topic
from policyqa.qa.features import CANDIDATE_FEATURES, Query, candidate_features, candidate_features_ref, make_query

COL = {n: i for i, n in enumerate(CANDIDATE_FEATURES)}


@pytest.mark.parametrize("q", ["企业需要连续几个年度营收增长？", "认定后几个月内拨付资金？", "扶持期是几年？"])
def test_a_count_word_inside_a_period_asks_a_date_not_a_count(q):
    kinds = asked_kinds(q)
    assert "date" in kinds and "count" not in kinds


@pytest.mark.parametrize("q", ["去年全县排查出多少隐患？", "今年计划培育多少企业？", "目前有多少孵化器？"])
def test_how_many_before_a_noun_asks_a_count(q):
    assert "count" in asked_kinds(q)


@pytest.mark.parametrize("q", ["补贴标准是多少钱？", "奖励多少？", "比例是多少？", "补助上限是多少万元？"])
def test_how_much_of_money_or_a_rate_is_not_a_count(q):
    assert "count" not in asked_kinds(q)


@pytest.mark.parametrize("q,date", [
    ("When is the application deadline?", True), ("When does the policy take effect, and until when is it valid?", True),
    ("Please tell me when the money arrives.", True), ("By when must we apply?", True),
    ("How much is a firm awarded when it lists on a stock exchange?", False),
])
def test_english_when_asks_a_date_where_a_clause_opens_not_as_a_conjunction(q, date):
    assert ("date" in asked_kinds(q)) == date


@pytest.mark.parametrize("q", ["这项奖励是哪个局管的？", "补贴资金由哪家单位审核？", "奖金由哪级政府承担？", "该找哪个中心办理？"])
def test_a_which_word_before_a_bodys_noun_asks_for_a_unit(q):
    assert "unit" in asked_kinds(q)


@pytest.mark.parametrize("q", ["哪个办法更新？", "哪个部分的奖励高？", "哪些企业可以申请？"])
def test_a_which_word_before_another_noun_asks_for_no_unit(q):
    assert "unit" not in asked_kinds(q)


@pytest.mark.parametrize("q, unit", [
    ("这笔补助最后谁来审？", True), ("奖励资金谁拨付？", True), ("这块归谁管？", True), ("材料交上去谁去批？", True),
    ("谁能申请这项补贴？", False), ("谁可以享受？", False),  # who is eligible: an enterprise, not a unit
])
def test_who_before_an_administrative_verb_asks_for_a_unit(q, unit):
    assert ("unit" in asked_kinds(q)) == unit


@pytest.mark.parametrize("q, asks", [
    ("甲县对新认定的单项冠军有没有奖励？", True),
    ("企业员工参加技能培训有补贴吗？", True),
    ("我们评上了市级工业设计中心，区里有奖金么", True),
    ("申请奖补有什么条件？", False),  # 什么: the 么 of a question word, not a yes-or-no particle
    ("补贴怎么申请？", False),
    ("有哪些部门负责奖励审核？", False),
])
def test_asking_whether_there_is_money_asks_an_amount(q, asks):
    assert ("amount" in asked_kinds(q)) == asks


@pytest.mark.parametrize("q", ["甲县和乙县对小巨人的奖励一样吗？", "两地技改补贴有什么区别", "甲市和乙市的奖补相比哪个多"])
def test_comparing_rewards_asks_for_their_amounts(q):
    assert "amount" in asked_kinds(q)


@pytest.mark.parametrize("q,told,asked", [
    ("我们厂牵头编制的团体标准去年发布了，县里奖励多少钱？", "unit", "amount"),
    ("我司有几台设备是租来的，租赁设备能不能算技改投资？", "count", None),
    ("我们新招了几名博士，补贴期限是几年？", "count", "date"),
    # a completed event inside the clause, its 了 a word of its own, not only at the clause's end
    ("我们是本地的企业，牵头起草了两项地方标准，县里有奖励吗？给多少？", "unit", "amount"),
    ("厂里去年牵头组建了一个产业联盟，市里能补多少？", "unit", "amount"),
])
def test_a_clause_telling_the_askers_situation_asks_no_figure(q, told, asked):
    kinds = asked_kinds(q)
    assert told not in kinds and (asked is None or asked in kinds)


@pytest.mark.parametrize("q,kind", [
    ("技改补贴几成，有没有上限？", "rate"),  # a terse first clause asks
    ("我们想知道牵头单位，是哪个？", "unit"),  # an asking verb
    ("我们企业的补贴由哪个部门审核？", "unit"),  # one clause: the question itself
    ("为了扩产新贷了一笔款，贴息找哪个部门？", "unit"),  # 为了 is not a completed event; the last clause asks
    ("牵头单位除了工信局，还有谁负责？", "unit"),  # 除了: no event told
])
def test_clauses_that_ask_keep_their_figure_kinds(q, kind):
    assert kind in asked_kinds(q)


def test_comparing_something_that_is_not_money_asks_no_amount():
    assert "amount" not in asked_kinds("甲县和乙县的服务专员制度有什么区别？")


@pytest.mark.parametrize("q,want", [
    ("这项工作由哪些部门负责？", False),
    ("哪些单位牵头？", False),
    ("申报需要满足哪些条件？", True),
    ("扶持资金包括哪几类？", True),
    ("奖励分为几种？", True),
    ("补贴标准是多少？", False),
    ("两地的技改补助有什么不同？", False),  # a difference is asked, not a list
    ("有啥区别？", False),
    ("有什么补贴？", True),
    ("甲县2021年那版措施里，贷款贴息按多少比例给？", False),  # a list noun before 里/中 names where to look
    ("申报条件中对营业收入的门槛是多少？", False),
    ("哪些中小企业可以申报？", True),  # a list word that asks keeps asking before 中
    ("都有哪些措施？", True),
])
def test_list_questions_and_responsible_unit_questions(q, want):
    assert asks_list(q) is want


def test_the_topic_of_a_comparison_leaves_out_the_comparing_words():
    assert comparison_topic("技改补助的比例和上限有什么区别？") == "技改补助的比例和上限有什么？"
    assert comparison_topic("对小巨人分别奖励多少") == "对小巨人奖励多少"
    assert comparison_topic("贷款贴息的上限") == "贷款贴息的上限"
    assert comparison_topic("诉求多久响应，哪个快？") == "诉求多久响应，？"


def test_the_topic_of_a_comparison_leaves_out_words_of_asking_and_what_the_places_left():
    # strip_regions leaves 「、的」 of 「甲、乙的…」; 一下/看看 name no topic, yet move the topic's embedding
    assert comparison_topic("的参展补贴对比一下") == "参展补贴"
    assert comparison_topic("、的人才补贴帮我比较看看") == "人才补贴"
    assert comparison_topic("和的贷款贴息分别多少") == "贷款贴息多少"
    assert comparison_topic("参展的补贴") == "参展的补贴"  # a 的 inside the topic stays


def _hit(text: str, rank: int, cid: str, dense: float = 0.9) -> Hit:
    ch = Chunk(chunk_id=cid, doc_id="d", section="一、扶持政策", text=text, start=0, end=len(text), header="《某县扶持办法》 一、扶持政策")
    return Hit(chunk=ch, score=1.0 / rank, rank=rank, dense_score=dense, dense_rank=rank, sparse_score=1.0, sparse_rank=rank)


def _query(text: str) -> Query:
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731  character bigrams stand in for words
    return make_query(text, tok, None)


HITS = [
    _hit("本办法适用于全县工业企业。对新认定的省级专精特新企业，给予一次性奖励20万元，最高不超过50万元。", 1, "c1"),
    _hit("对年度研发投入增长的企业，按增量的10%给予补助。申报材料由县工信局审核。", 2, "c2"),
]


def test_relative_features_compare_with_the_questions_own_candidates():
    q = _query("省级专精特新企业奖励多少？")
    cands = candidates(HITS)
    X = candidate_features(q, HITS, cands)
    cov_gap = X[:, COL["cov_gap"]]
    assert cov_gap.max() == pytest.approx(0.0) and (cov_gap <= 1e-6).all()
    best = int(np.argmax(X[:, COL["cov"]]))
    assert "20万元" in cands[best].text
    assert X[best, COL["bm25_rank"]] == pytest.approx(1.0)  # the best BM25 unit ranks first
    assert X[best, COL["fig_rank"]] == pytest.approx(1.0)  # states the asked amount and covers the question best
    assert np.isnan(X[:, COL["dense_rank"]]).all()  # no vectors: unknown, imputed by the model


def test_clause_runs_are_measured_against_the_same_units():
    q = _query("省级专精特新企业奖励多少？")
    cands = candidates(HITS)
    X, ref = candidate_features_ref(q, HITS, cands)
    unit = next(i for i, c in enumerate(cands) if "20万元" in c.text)
    runs = clause_candidates(cands[unit], HITS[cands[unit].hit])
    assert runs
    Xr = candidate_features(q, HITS, runs, ref=ref)
    # against the units, no clause run covers the question better than the best unit
    assert (Xr[:, COL["cov_gap"]] <= 1e-6).all()
    # measured alone, the best run would look like the best candidate (gap 0): the reference matters
    alone = candidate_features(q, HITS, runs)
    assert alone[:, COL["cov_gap"]].max() == pytest.approx(0.0)


def test_a_documents_addressee_line_is_never_an_answer():
    from policyqa.qa.candidates import chunk_candidates, is_addressee

    assert is_addressee("各乡镇人民政府、各街道办事处，县政府各部门：")
    assert is_addressee("各区县人民政府，市各委、办、局：")
    assert not is_addressee("申报条件如下：")
    assert not is_addressee("对首次认定的企业，给予奖励10万元。")
    text = "各镇人民政府、各街道办事处，县直各部门：\n现将有关事项通知如下。对新认定的企业给予奖励10万元。"
    hit = _hit(text, 1, "a1")
    cands = chunk_candidates(0, hit)
    assert [c.host for c in cands if c.text.startswith("各镇")] == [True]
    assert not any(c.host for c in cands if "10万元" in c.text)


def test_a_rule_stated_in_tiers_is_one_candidate_never_trimmed_to_one_tier():
    from policyqa.qa.candidates import chunk_candidates, is_tier_of

    # tiers: the second piece opens with its own threshold and no subject; the cap ends both
    text = ("第5条 支持研发投入。对年度研发投入100万元以上的企业，按研发投入的5%给予奖励；研发投入500万元以上的，"
            "按研发投入的8%给予奖励；超过1000万元的，按10%给予奖励。单个企业最高不超过80万元。")
    cands = chunk_candidates(0, _hit(text, 1, "t1"))
    rule = [c for c in cands if "5%" in c.text]
    assert len(rule) == 1 and all(x in rule[0].text for x in ("5%", "8%", "10%", "80万元")) and rule[0].tiers
    assert clause_candidates(rule[0], _hit(text, 1, "t1")) == []
    # separate rules with subjects of their own stay separate units
    text2 = "对新认定的国家级企业给予奖励100万元；对新认定的省级企业给予奖励50万元。"
    assert [c.text for c in chunk_candidates(0, _hit(text2, 1, "t2"))] == [
        "对新认定的国家级企业给予奖励100万元；", "对新认定的省级企业给予奖励50万元。"]
    assert not is_tier_of("达到500万元的，给予奖励。", "对企业给予奖励。")  # after 。: another sentence
    assert not is_tier_of("符合条件的，给予奖励。", "对企业按5%给予奖励；")  # no threshold of its own


def test_a_short_sentence_qualifying_a_rule_is_one_candidate_with_it():
    from policyqa.qa.candidates import chunk_candidates

    # 按差额 / 只奖励一次 qualify the amounts before them; an answer quoting the amounts keeps them
    text = ("第6条 支持企业晋级。对新认定的国家级、省级绿色工厂，分别给予一次性奖励80万元、30万元。"
            "由省级晋升为国家级的，按差额补足。对通过复核的企业，给予奖励5万元。同一企业3年内只奖励一次。")
    texts = [c.text for c in chunk_candidates(0, _hit(text, 1, "q1")) if c.kind == "sentence"]
    assert any("80万元" in t and "按差额补足" in t for t in texts)
    assert any("5万元" in t and "只奖励一次" in t for t in texts)
    assert not any("80万元" in t and "5万元" in t for t in texts)  # a rule with a subject of its own stays apart
    # a long sentence that happens to name a difference is a rule of its own
    long = ("对新认定的省级企业技术中心给予奖励20万元。"
            "对企业开展产学研合作、与高校共建研发平台并实际投入资金超过200万元的，按投入差额部分的10%给予补助。")
    assert len([c for c in chunk_candidates(0, _hit(long, 1, "q2")) if c.kind == "sentence"]) == 2


def test_english_words_no_document_contains_do_not_count_against_coverage():
    from policyqa.qa.features import TermStats, coverage

    tok = lambda s: re.findall(r"[a-z]+|[\u4e00-\u9fff]{2}", s.lower())  # noqa: E731  words and character pairs (lower case, as the index)
    texts = ["对成功上市的企业给予奖励150万元。", "对新认定的企业给予奖励10万元。", "AI企业给予奖励。"]
    stats = TermStats.from_texts(texts, tok)
    q = make_query("How much is the award for listing?（上市 奖励）", tok, stats)
    assert q.tokens == ("上市", "奖励")  # the English words are judged by the Chinese words of their terms
    assert coverage(q, texts[0]) == pytest.approx(1.0)
    # a Latin word the documents contain (AI) still counts, and so do all words when none is known
    assert "ai" in make_query("AI企业奖励多少", tok, stats).tokens
    assert make_query("How much?", tok, stats).tokens == ("how", "much")


@pytest.mark.parametrize("word", ["上规", "入规", "小升规"])
def test_the_words_for_entering_the_above_scale_statistics_are_one_family(word):
    from policyqa.qa.cues import present, with_synonyms

    assert present(word, "第1条 鼓励企业升规入统。对首次纳入规模以上工业统计的企业，给予一次性奖励8万元。")
    assert "升规" in with_synonyms(f"今年刚{word}，奖多少？")
    assert not present(word, "对规模以上工业企业按营业收入增量给予奖励。")  # being above scale is not entering it


def test_synonyms_count_in_coverage():
    from policyqa.qa.features import coverage

    q = _query("规上企业奖励多少")
    assert coverage(q, "对规模以上企业给予奖励") == pytest.approx(coverage(q, "对规上企业给予奖励"))


def test_an_abbreviation_is_present_where_its_full_form_is():
    from policyqa.qa.cues import present

    assert present("智改数转", "四川省制造业智能化改造数字化转型专项资金管理办法")
    assert present("小升规", "第七条 支持小微企业升规。")
    assert not present("智改数转", "智能化改造。数字化转型")  # not across a sentence end
    assert not present("智改数转", "智能制造和企业改革，数字经济中的转型")  # characters too far apart
    assert not present("专精", "专业精细")  # two-character terms are matched literally


def test_a_compound_term_written_apart_in_one_sentence_is_present():
    from policyqa.qa.cues import present
    from policyqa.qa.features import missing

    text = "对企业新增的设备更新贷款，按实际支付利息的40%给予贴息，单户最高20万元。"
    assert present("贷款贴息", text)  # 贷款 … 贴息: the two words of the term, in order, one sentence
    assert not present("贷款贴息", "对企业新增贷款给予担保。对上云企业给予贴息。")  # not across sentences
    assert not present("贴息贷款", text)  # nor in the other order
    q = _query("某县贷款贴息最多多少")
    assert "贷款贴息" in q.terms and missing(q, text) == 0  # so the feature does not count it missing


def test_a_clause_about_the_topic_beats_a_figure_about_something_else():
    """The asked kind of figure (a rate) must not pull the answer to a clause on another
    topic: the clause about the question's topic is chosen, and it states no rate."""
    from policyqa.qa.compose import ExtractiveComposer
    from policyqa.qa.cues import present_kinds

    hits = [
        _hit("企业研发经费支出占主营业务收入的比重高于10%以上。", 1, "r1"),
        _hit("将符合规定的知识产权费用纳入研发费用加计扣除范围。", 2, "r2"),
    ]
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    q = comp.query("研发费用加计扣除比例是多少？")
    got = comp.select(comp.score(q, hits))
    assert got and "加计扣除" in got[0].text
    assert "rate" not in present_kinds(got[0].text)


def test_a_leading_clause_that_restates_the_question_is_not_quoted():
    """With the shipped decoding settings, a leading clause that only repeats the question
    is dropped from the quote; the clause that answers, with its figures and cap, stays."""
    from policyqa.qa.compose import ExtractiveComposer

    hits = [_hit("对于因故停办的培训项目，按实际支出的50%给予补助，最高不超过20万元。", 1, "t1")]
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    q = comp.query("对于因故停办的培训项目怎样支持？")
    got = comp.select(comp.score(q, hits))
    assert got and not got[0].text.startswith("对于")
    assert "50%" in got[0].text and "20万元" in got[0].text


def test_a_leading_clause_with_a_word_the_question_does_not_say_is_not_a_restatement():
    """「对新认定的国家级绿色工厂，」 mostly repeats 「对新认定的省级绿色工厂…」, but its own word
    (国家级) says which rule the figure is for: it stays in the quote."""
    from policyqa.qa.compose import ExtractiveComposer

    hits = [_hit("对新认定的国家级绿色工厂，给予一次性奖励100万元。", 1, "g1")]
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    got = comp.select(comp.score(comp.query("对新认定的省级绿色工厂怎样奖励？"), hits))
    assert got and got[0].text.startswith("对新认定的国家级绿色工厂，") and "100万元" in got[0].text


def test_a_condition_clause_that_repeats_the_question_stays_with_its_figure():
    """「…的，」 states what the figure after it is for: quoting 「奖励120万元」 alone for one
    stage of a staged reward would not say which stage it is."""
    from policyqa.qa.compose import ExtractiveComposer

    hits = [_hit("企业挂牌新三板的，奖励120万元。", 1, "c1")]
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    q = comp.query("企业挂牌新三板的奖多少？")
    got = comp.select(comp.score(q, hits))
    assert got and got[0].text.startswith("企业挂牌新三板的，") and "120万元" in got[0].text


def test_a_cap_question_gets_the_cap_that_follows_the_rule_in_its_passage():
    """「…按几个点？封顶多少？」: the rate's unit states no cap; the passage's next sentence
    that states one (it limits the rules before it) comes with it."""
    from policyqa.qa.compose import ExtractiveComposer

    text = ("设备更新项目按设备投资额分档补助：投资额500万元以下的按6%补助，500万元及以上的按9%补助。"
            "获评示范项目的，另奖励5万元。单个项目补助最高不超过300万元。")
    tok = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731
    comp = ExtractiveComposer(tok)
    got = comp.select(comp.score(comp.query("设备更新项目补助按几个点？封顶多少？"), [_hit(text, 1, "cap1")]))
    joined = "".join(g.text for g in got)
    assert "9%" in joined and "300万元" in joined


def test_a_list_item_is_not_introduced_by_the_preamble_label():
    from policyqa.corpus.chunk import PREAMBLE
    from policyqa.qa.compose import heading_of as _heading

    ch = Chunk(chunk_id="p", doc_id="d", section=PREAMBLE, text="对企业给予补助。", start=0, end=8, header="《某县办法》")
    assert _heading(Hit(chunk=ch, score=1.0, rank=1)) == ""
    assert _heading(_hit("对企业给予补助。", 1, "h")) == "一、扶持政策"


def _jieba_query(text: str) -> Query:
    from policyqa.index.tokenize import JiebaTokenizer

    return make_query(text, JiebaTokenizer().tokenize, None)


def test_words_that_ask_for_a_figure_weigh_like_question_words_so_the_topic_decides_coverage():
    from policyqa.qa.features import coverage

    q = _jieba_query("设备更新补助的比例和上限是多少？")
    asks = dict(zip(q.tokens, q.asks))
    assert asks["比例"] == "rate" and asks["上限"] == "cap" and asks["设备"] == "" and asks["补助"] == ""
    states = "对设备更新项目，按投资额的12%给予补助，单个企业最高不超过80万元。"  # 12% and 最高 answer them
    other_topic_with_figures = "对参加境外展会的企业，按展位费的50%给予补助，单个企业最高不超过10万元。"
    assert coverage(q, states) > 0.9
    assert coverage(q, states) > coverage(q, other_topic_with_figures) + 0.3


def test_comparison_wording_weighs_like_a_question_word():
    q = _jieba_query("两地的设备补助有什么区别？")
    w = dict(zip(q.tokens, q.weights))
    assert w["区别"] == pytest.approx(0.2) and w["设备"] == pytest.approx(2.0)  # a generic word's weight


@pytest.mark.parametrize("unit", [
    "序号：2 | 奖励类别：省级专精特新中小企业 | 奖励标准：20万元",
    "对新认定的省级专精特新中小企业，一次性给予20万元奖励。",
])
def test_a_trimmed_quote_keeps_what_its_figure_is_for(unit):
    from policyqa.index.tokenize import JiebaTokenizer
    from policyqa.qa.compose import ExtractiveComposer
    from policyqa.qa.features import topic_weight

    comp = ExtractiveComposer(JiebaTokenizer().tokenize)
    hits = [_hit(unit, 1, "c1")]
    q = comp.query("省级专精特新中小企业奖励多少钱？")
    sel = comp.select(comp.score(q, hits))
    assert sel and "20万元" in sel[0].text
    assert topic_weight(q, sel[0].text) > 0  # not a bare 「20万元」: a word of what it is for stays


@pytest.mark.parametrize("text", ["市政府负责同志每季度调度一次。", "挂钩干部每月走访企业不少于1次。", "每个工作日公布一次办理进度。",
                                  "每半年开展一次评估。"])
def test_a_frequency_states_the_time_a_how_often_question_asks(text):
    from policyqa.qa.cues import present_kinds

    assert "date" in asked_kinds("多久调度一次？") and "date" in asked_kinds("走访频次是多少？")
    assert "date" in present_kinds(text)  # so the answer does not say the time is not stated


def test_a_hit_only_bm25_found_gets_its_cosine_from_the_stored_vectors():
    from policyqa.qa.answerer import with_dense_scores

    vecs = {"c1": np.array([1.0, 0.0], dtype=np.float32), "c2": np.array([0.6, 0.8], dtype=np.float32)}

    class Index:
        def vectors(self, ids):
            return np.stack([vecs[i] for i in ids])

    class Dense:
        index = Index()

        def query_vectors(self, texts):
            return np.array([[0.0, 1.0]], dtype=np.float32)

    class Retriever:
        dense = Dense()

    hits = [_hit("甲", 1, "c1", dense=0.5), Hit(chunk=_hit("乙", 2, "c2").chunk, score=0.5, rank=2, sparse_score=1.0, sparse_rank=2)]
    out = with_dense_scores(hits, Retriever(), "问题")
    assert out[0].dense_score == pytest.approx(0.5)  # a dense hit keeps its own score
    assert out[1].dense_score == pytest.approx(0.8) and out[1].dense_rank is None  # cosine filled in, no rank invented
    assert with_dense_scores(hits, object(), "问题") == hits  # a backend without vectors: unchanged
    bm25_only = [hits[1]]
    assert with_dense_scores(bm25_only, Retriever(), "问题") == bm25_only  # BM25-only retrieval: nothing embedded


def test_outside_lead_is_how_much_better_another_regions_passage_covers_the_question():
    from policyqa.qa.features import ANSWERABILITY_FEATURES, answerability_features

    q = _query("企业成功上市奖多少")
    own = [_hit("对新认定的省级专精特新企业，给予一次性奖励20万元。", 1, "own")]
    other = [_hit("对在沪深北交易所成功上市的企业，给予一次性奖励150万元。", 1, "other")]
    col = ANSWERABILITY_FEATURES.index("outside_lead")
    lead = answerability_features(q, own, 0.0, 0.0, False, outside=other)[col]
    assert lead > 0  # another region states the rule the region asked about lacks: a region trap
    assert answerability_features(q, other, 0.0, 0.0, False, outside=own)[col] < 0
    assert answerability_features(q, own, 0.0, 0.0, False)[col] == 0.0  # not judged within a region


@pytest.mark.parametrize("text", ["所有诉求1个工作日内响应", "在3个工作日内办结", "每个季度调度一次"])
def test_a_period_counted_with_a_measure_word_states_a_time(text):
    from policyqa.qa.cues import present_kinds

    assert "date" in present_kinds(text)


@pytest.mark.parametrize("text,want", [
    ("本通知由工业和信息化部中小企业局负责解释。", True),  # a national body, followed by what it does
    ("由县经济和信息化局会同县财政局审核。", True),
    ("领导小组办公室主任由分管工业副市长兼任。", True),  # a person's post answers who
    ("奖励资金由企业所属同级政府承担。", True),
    ("对首次认定为省级专精特新中小企业的，给予一次性奖励20万元。", False),  # 省级 names no body
    ("推动部门联动，形成工作合力。", False),
    ("市场主体登记实行告知承诺制。", False),
])
def test_a_stated_unit_is_a_named_body_or_post(text, want):
    from policyqa.qa.cues import present_kinds

    assert ("unit" in present_kinds(text)) is want


def test_the_members_a_clause_starting_with_ji_lists_are_never_cut_apart():
    # 「即」 opens an apposition; the clauses after it listing members like it (…产业集群) belong to it
    text = "到2025年，努力形成3大产业集群，即产值达到500亿级的纺织产业集群，产值达到100亿级的建材产业集群、物流产业集群；同时培育龙头企业。"
    hit = _hit(text, 1, "j1")
    unit = next(c for c in candidates([hit]) if "纺织" in c.text)
    runs = [r.text for r in clause_candidates(unit, hit)]
    assert any("物流产业集群" in r and "3大产业集群" in r for r in runs)
    assert not any("纺织" in r and "物流" not in r for r in runs)


@pytest.mark.parametrize("question,asks", [("每名专员最多联系几家企业？", True), ("技改补助封顶多少钱？", True),
                                           ("补助上限是多少？", True), ("每名专员联系几家企业？", False)])
def test_a_cap_counts_as_asked_only_when_the_question_names_one(question, asks):
    # a unit without a cap never matches a cap question
    _assert_flag_only_where_marked(question, asks, "cap_asked", "不超过",
                                   ["全县已配备专员120名，联系企业900家。", "每名专员联系的企业原则上不超过10家。"])


def _assert_flag_only_where_marked(question: str, asks: bool, feature: str, marker: str, texts: list[str]) -> None:
    """``feature`` is ``asks`` for the units holding ``marker`` and 0 for the others."""
    hits = [_hit(t, i + 1, f"c{i + 1}") for i, t in enumerate(texts)]
    cands = candidates(hits)
    X = candidate_features(_query(question), hits, cands)
    by_text = {cd.text: X[i, COL[feature]] for i, cd in enumerate(cands)}
    marked = [v for t, v in by_text.items() if marker in t]
    plain = [v for t, v in by_text.items() if marker not in t]
    assert marked and plain
    assert all(v == float(asks) for v in marked)
    assert all(v == 0.0 for v in plain)


@pytest.mark.parametrize("text,condition", [
    ("对初次违法且危害后果轻微并及时改正的，可以不予行政处罚，并加强指导。", "对初次违法且危害后果轻微并及时改正的"),
    ("企业年营业收入首次超过2000万元的，给予一次性奖励10万元，奖励资金次年兑现。", "企业年营业收入首次超过2000万元的"),
])
def test_a_trimmed_quote_never_ends_on_a_condition_without_what_it_is_for(text, condition):
    hits = [_hit(text, 1, "c1")]
    unit = next(c for c in candidates(hits) if c.kind == "sentence")
    runs = [c.text.rstrip("，,") for c in clause_candidates(unit, hits[0])]
    assert runs  # the sentence is still trimmed ...
    assert all(not r.endswith("的") for r in runs)  # ... but never to end on its condition
    assert any(r.startswith(condition) and len(r) > len(condition) for r in runs)  # the condition with its consequence


def test_a_candidate_repeating_a_longer_run_of_the_question_verbatim_scores_a_longer_phrase():
    from policyqa.qa.features import phrase

    q = _query("市政府主要负责同志多久调度一次？")
    whole = "市政府主要负责同志每季度调度一次，选取一个县区现场观摩。"
    apart = "市政府负责同志每月调度一次，主要采取会议方式。"  # every word of the question, not the phrase
    assert phrase(q, whole) > phrase(q, apart) > 0.0
    assert phrase(q, "企业服务专员每月走访一次。") < phrase(q, apart)
    assert 0.0 <= phrase(q, whole) <= 1.0
    assert phrase(_query("？"), whole) == 0.0  # no question characters: nothing to repeat


def test_the_phrase_gap_compares_with_the_questions_best_unit():
    hits = [_hit("市政府主要负责同志每季度调度一次。市政府负责同志每月调度一次。", 1, "c1")]
    X = candidate_features(_query("市政府主要负责同志多久调度一次"), hits, candidates(hits))
    gaps = X[:, COL["phrase_gap"]]
    assert gaps.max() == 0.0 and gaps.min() < 0.0


@pytest.mark.parametrize("question,asks", [("拿了落户奖励，还能再申请技改补助吗？", True), ("租来的设备能不能算进技改投资？", True),
                                           ("技改补助比例是多少？", False),
                                           ("我们能享受的去年都享受了，技改补助比例是多少？", False)])  # told, not asked
def test_a_rule_counts_as_asked_only_when_the_question_asks_whether_something_is_allowed(question, asks):
    # a unit stating no permission or restriction never matches
    _assert_flag_only_where_marked(question, asks, "rule_asked", "不再",
                                   ["对技术改造项目按设备投资额的10%给予补助。", "享受落户奖励的项目，不再享受技改补助。"])


@pytest.mark.parametrize("q,rule", [
    ("拿到的奖励，能直接给员工发奖金吗？", True), ("两项补贴能都拿吗？", True), ("节能改造可以补吗？", True),
    ("技改和贴息能不能同时享受？", True),  # a listed phrase
    ("智能工厂有补贴吗？", False), ("新能源汽车补贴怎么领？", False),  # 能 inside a word
    ("我们能申请哪些补贴？", False),  # no yes-or-no end: it asks which
])
def test_a_yes_or_no_question_with_a_modal_verb_asks_about_a_rule(q, rule):
    from policyqa.qa.cues import asks_rule

    assert asks_rule(q) == rule


def _words_query(text: str, words) -> Query:
    tok = lambda s: [w for w in words if w in s]  # noqa: E731  a fixed word list stands in for jieba
    return make_query(text, tok, None)


def test_region_absent_weighs_topic_words_only_another_regions_passage_states():
    from policyqa.qa.features import region_absent

    q = _words_query("我们县企业兼并重组外地企业有奖励吗", ["企业", "兼并", "重组", "外地", "奖励"])
    region = ["对新认定的省级专精特新企业，给予一次性奖励20万元。", "外地客商来县投资的，按规定给予支持。"]
    other = "对县内工业企业兼并重组县外企业的，按实际交易额的1%给予奖励。"
    share = region_absent(q, region, other)
    assert 0.3 < share < 1.0  # 兼并 and 重组: the other region's rule; 企业, 奖励, 外地 the region states
    assert region_absent(q, region + ["企业兼并重组的，给予奖励。"], other) == 0.0  # the region states them after all
    assert region_absent(q, region, "对企业技术改造给予奖励。") == 0.0  # words nobody states are no sign of another region's rule


def test_region_absent_ignores_the_askers_own_amounts_and_counts_synonyms():
    from policyqa.qa.features import region_absent

    q = _words_query("规上企业营收2000万以上奖多少", ["规上", "企业", "营收", "2000万"])
    region = ["对规模以上工业企业给予奖励。"]  # 规模以上 is how documents write 规上 (cues.json synonyms)
    other = "对规上企业营收首次超过2000万的，奖励5万元。"
    assert region_absent(q, region, other) == pytest.approx(
        q.weights[q.tokens.index("营收")] / sum(q.weights))  # only 营收: 2000万 is the asker's figure, 规上 is stated



def test_a_foreign_country_named_in_a_question_is_what_documents_call_abroad():
    from policyqa.index.tokenize import JiebaTokenizer
    from policyqa.qa.cues import with_synonyms
    from policyqa.qa.features import coverage

    tok = JiebaTokenizer().tokenize
    q = make_query("明年去德国参加专业展，展位费能补多少", tok, None)
    abroad = "参加境外专业展会的，按展位费的65%给予补助，单个企业年度最高不超过18万元。"
    home = "参加境内国家级专业展会的，按展位费的45%给予补助，单个企业年度最高不超过7万元。"
    assert coverage(q, abroad) > coverage(q, home)
    assert "境外" in with_synonyms("去德国参展有补贴吗")  # searched for as well
    q2 = make_query("参加境外展会展位费补多少", tok, None)
    assert coverage(q2, "参加德国展会的给予补助") < coverage(q2, "参加境外展会的给予补助")  # one way only


def test_region_absent_counts_a_compound_the_region_writes_apart():
    from policyqa.qa.features import region_absent

    q = _words_query("贷款贴息单个企业上限多少", ["贷款贴息", "企业", "上限"])
    region = ["对中小微企业新增的流动资金贷款，按实际支付利息的50%给予贴息。"]  # 贷款…贴息 in one sentence
    other = "对企业新增贷款贴息，单个企业最高不超过50万元。"
    assert region_absent(q, region, other) == 0.0
    assert region_absent(q, ["对企业新增贷款给予支持。另行制定贴息办法。"], other) > 0  # in two sentences: not the compound


@pytest.mark.parametrize("word", ["这边", "县里", "我们"])
def test_words_pointing_at_the_asker_or_the_place_are_no_topic(word):
    """「我们县里这边…」 says who and where asks, not what about: such a word weighs like a generic
    word in coverage, and a place's documents lacking it is no sign of another place's rule."""
    from policyqa.index.tokenize import JiebaTokenizer
    from policyqa.qa.features import coverage, region_absent_terms

    q = make_query(f"{word}企业技术改造补助多少", JiebaTokenizer().tokenize, None)
    assert coverage(q, "对企业技术改造项目给予补助。") > 0.8
    assert word not in region_absent_terms(q, ["对企业技术改造项目给予补助。"], f"{word}对企业技术改造项目给予补助。")
