"""Answer shapes and typed decisions on county policies written for these tests.

``tests/data/county/``: two versions of an 安吉县 policy (2021 and 2025, same
issuer and title, different figures) and a 南康区 policy, each with 第N条
articles, amounts, caps, conditions and responsible units.  The questions are
phrased here for the behaviour under test; none is taken from an evaluation set.
Retrieval is BM25 with a keyword fake embedder (no model), through the same
wiring as the service (``make_answerer``) and the shipped selector.  The
answerability model leans on the real model's dense similarity, which the fake
cannot give, so the shape tests answer whenever a passage is found
(threshold 0); refusals are tested with the real model (slow class below).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.candidates import chunk_candidates, clause_candidates
from policyqa.qa.cues import with_synonyms
from policyqa.qa.decision import Reason
from policyqa.qa.service import make_answerer
from policyqa.qa.types import Turn

COUNTY = Path(__file__).parent / "data" / "county"
TODAY = lambda: date(2026, 6, 1)  # noqa: E731
VOCAB = ["奖励", "补助", "小巨人", "数字化", "人才", "规模以上", "研发中心", "牵头"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    docs = list(load_corpus([COUNTY]).documents)
    return IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(VOCAB), jieba_tokenizer(),
                            tmp_path_factory.mktemp("county") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)


@pytest.fixture(scope="module")
def ask(store):
    answerer = make_answerer(store, RetrievalConfig(mode="bm25"), today=TODAY, threshold=0.0)
    return answerer.answer


@pytest.fixture(scope="module")
def real_ask(tmp_path_factory):
    """The real default model, hybrid retrieval and the shipped answerability threshold."""
    from policyqa.index.embeddings import load_embedder

    docs = list(load_corpus([COUNTY]).documents)
    st = IndexStore.build(docs, chunk_documents(docs), load_embedder(), jieba_tokenizer(), tmp_path_factory.mktemp("real") / "ix",
                          chunker_settings=ChunkerConfig().to_dict(), progress=False)
    return make_answerer(st, RetrievalConfig(), today=TODAY).answer


def body(a) -> str:
    return a.text.split("\n来源：")[0]


# --- candidates -------------------------------------------------------------------------


def _hit(text, responsible=""):
    from policyqa.corpus.types import Chunk
    from policyqa.index.types import Hit

    return Hit(Chunk("d#1", "d", "第二条", text, 0, len(text), responsible=responsible), 1.0, 1)


def test_a_cap_sentence_stays_with_the_rule_it_limits():
    h = _hit("对企业购置设备的，按投资额的20%给予补助。单个项目补助金额不超过100万元。其他事项另行规定。")
    units = [c for c in chunk_candidates(0, h) if c.kind == "sentence"]
    assert units[0].text == "对企业购置设备的，按投资额的20%给予补助。单个项目补助金额不超过100万元。"
    assert units[1].text == "其他事项另行规定。"


def test_numbered_items_are_units_and_notes_are_candidates():
    h = _hit("申报条件：1、在本县注册满一年。2、上年营业收入500万元以上。3、无失信记录。", responsible="牵头单位：县经信局")
    cands = chunk_candidates(0, h)
    units = {c.text for c in cands if c.kind in ("item", "sentence")}
    assert {"1、在本县注册满一年。", "2、上年营业收入500万元以上。", "3、无失信记录。"} <= units
    assert [c.text for c in cands if c.kind == "item"] == ["1、在本县注册满一年。"]  # the others are already sentence units
    assert [c.text for c in cands if c.kind == "note"] == ["牵头单位：县经信局"]


def test_clause_candidates_are_runs_of_clauses_of_one_sentence():
    h = _hit("符合条件的小微企业，免征增值税，并减半征收企业所得税。")
    unit = chunk_candidates(0, h)[0]
    texts = {c.text for c in clause_candidates(unit, h)}
    assert "免征增值税，" in texts and "符合条件的小微企业，免征增值税，" in texts
    assert unit.text not in texts and all(c.kind == "clause" for c in clause_candidates(unit, h))


def test_a_clause_that_explains_the_one_before_is_never_cut_from_it():
    h = _hit("服务专员上门时携带统一印制的“两单一册”，即问题清单、服务清单和工作手册，做到走访有记录。")
    unit = chunk_candidates(0, h)[0]
    runs = [c.text for c in clause_candidates(unit, h)]
    assert runs and all(("两单一册" in t) == ("问题清单" in t) for t in runs)  # the term and what it stands for stay together


# --- shapes -------------------------------------------------------------------------------


def test_a_trimmed_answer_holds_the_figure_and_its_cap(ask):
    a = ask("安吉县企业搞数字化改造，设备投资补助比例是多少？最多补多少？")
    assert a.decision == Reason.ANSWERED.value
    b = body(a)
    assert "15%" in b and "300万元" in b  # the rate and its cap, never cut off
    assert "80万元" not in b and "50万元" not in b  # no other article


def test_a_partial_answer_says_the_amount_is_not_stated(ask):
    a = ask("安吉县引进高层次人才奖励多少钱？")
    assert not a.refused and a.decision in (Reason.PARTIAL.value, Reason.REFUSED_REGION.value)
    b = body(a)
    assert "没有写明" in b and "金额" in b
    first = next(ln for ln in b.splitlines() if ln.startswith("【"))
    assert "优先推荐" in first and not re.search(r"\d+万元", first)  # the closest clause of that county, first
    for ln in b.splitlines():  # any other figure is another region's, labelled so
        if re.search(r"\d+万元", ln):
            assert not ln.startswith("【浙江省湖州市安吉县】")


def test_a_list_question_returns_every_matching_clause_in_document_order(ask):
    a = ask("安吉县数字经济政策有哪些奖励？")
    assert a.decision == Reason.ANSWERED.value
    b = body(a)
    for fig in ("80万元", "15%", "50万元", "10万元"):
        assert fig in b, fig
    pos = [b.index(f) for f in ("80万元", "15%", "50万元", "10万元")]
    assert pos == sorted(pos)  # document order
    assert all(st.bullet for st in a.statements) and len(a.citations) >= 4
    assert "5万元" not in b.replace("15万元", "")  # never the superseded 2021 figures


def test_a_comparison_gives_one_labelled_statement_per_region(ask):
    a = ask("安吉县和南康区对国家级专精特新小巨人分别奖励多少？")
    assert a.decision == Reason.ANSWERED.value
    lines = [ln for ln in body(a).splitlines() if ln.strip()]
    zj = [ln for ln in lines if ln.startswith("【浙江省")]
    jx = [ln for ln in lines if ln.startswith("【江西省")]
    assert len(zj) == 1 and "80万元" in zj[0]
    assert len(jx) == 1 and "60万元" in jx[0]


@pytest.mark.slow
def test_a_comparison_says_when_a_region_states_no_figure(real_ask):
    a = real_ask("安吉县和南康区对企业研发中心分别奖励多少？")
    b = body(a)
    assert "50万元" in b
    assert re.search(r"南康区的文件中没有写明这项的具体金额|江西省赣州市南康区的文件中没有写明", b)


@pytest.mark.slow
def test_each_region_of_a_comparison_is_judged_on_its_topic_without_the_comparing_words(real_ask):
    """「…有什么区别」: 区别 is no topic word a region's clause should state, and 「有什么」 before it
    asks no list; 南康's own article answers, alone."""
    a = real_ask("安吉县和南康区的技术改造补助有什么区别？")
    nk = "".join(ln for ln in body(a).splitlines() if ln.startswith("【江西省"))
    assert "10%" in nk and "200万元" in nk
    assert "60万元" not in nk and "诊断" not in nk  # not the region's other articles listed with it
    a = real_ask("南康区和安吉县的企业数字化补助一样吗？")
    aj = "".join(ln for ln in body(a).splitlines() if ln.startswith("【浙江省"))
    assert "15%" in aj and "300万元" in aj


def test_two_places_compared_are_not_read_as_one_enterprises_eligibility(ask):
    """「在甲和乙，企业新认定…分别能拿多少」 names an enterprise and a new honour, as an eligibility
    question does, but compares two places: each place's rule, not a check for the first place."""
    a = ask("在安吉县和南康区，企业新认定国家级专精特新小巨人，分别能拿多少奖励？")
    b = body(a)
    assert "80万元" in b and "60万元" in b and "逐条比对" not in b
    assert {c.doc_id for c in a.citations} == {"anji-2025.txt", "nankang-2024.txt"}


def test_a_follow_up_changing_the_place_is_answered_for_that_place_without_a_note(ask):
    """The previous turn's documents are those of the place it named; a follow-up that changes
    the place changes a slot of the same topic: no note that they do not mention the new place."""
    first = "安吉县对国家级专精特新小巨人奖励多少？"
    a = ask("南康区呢？", history=[Turn(first, ask(first).text, first)])
    assert "60万元" in body(a) and "没有提到" not in body(a)
    assert {c.doc_id for c in a.citations} == {"nankang-2024.txt"}


@pytest.mark.slow
def test_a_question_refused_alone_is_read_in_the_previous_turns_context(real_ask):
    """A follow-up without the cues that mark one (long, no 呢, no 那): alone it names no topic
    and is refused; read after the previous question's topic it is answered from that rule."""
    first = "南康区技术改造补助比例是多少？"
    q = "我们打算明年上一条新产线，最多能给到多少钱？"
    assert real_ask(q).refused  # on its own
    a = real_ask(q, history=[Turn(first, real_ask(first).text, first)])
    assert not a.refused and "200万元" in body(a)
    assert "技术改造" in a.resolved_question and q.rstrip("？") in a.resolved_question


def test_responsible_unit_is_the_one_of_the_matching_item(ask):
    a = ask("安吉县规上企业奖励由哪个部门牵头？")
    assert "县统计局" in body(a) and "县经信局" not in body(a).replace("向县经信局", "")


def test_newer_version_leads_and_the_older_is_labelled_superseded(ask):
    a = ask("安吉县对首次认定国家级小巨人的企业奖励多少？")
    b = body(a)
    assert "80万元" in b
    if "50万元" in b:  # the old figure may be shown, but only labelled and after the new one
        old_line = next(ln for ln in b.splitlines() if "50万元" in ln)
        assert "旧版" in old_line and "2021-06-18" in old_line and b.index("80万元") < b.index("50万元")


def test_follow_up_keeps_the_region_and_replaces_the_changed_slot(ask):
    a = ask("那省级的呢？", history=[Turn("安吉县评上国家级专精特新小巨人奖励多少？")])
    assert "省级" in a.resolved_question and "安吉" in a.resolved_question and "国家级" not in a.resolved_question
    assert not a.refused


def test_follow_up_about_something_the_previous_documents_do_not_mention_says_so(ask):
    a = ask("那光伏呢？", history=[Turn("南康区技术改造补助比例是多少？")])
    assert "没有提到「光伏」" in a.text


# --- decisions ------------------------------------------------------------------------------


@pytest.mark.slow
def test_out_of_corpus_is_refused_with_a_typed_reason(real_ask):
    a = real_ask("个人所得税专项附加扣除的标准是多少？")
    assert a.refused and a.decision == Reason.REFUSED_OUT_OF_CORPUS.value
    assert "[1]" not in a.text and not a.citations


def test_region_without_documents_never_points_at_a_missing_item(ask):
    a = ask("拉萨市对国家级小巨人奖励多少？")
    assert a.decision == Reason.REFUSED_REGION.value
    assert a.text.startswith("知识库中没有西藏自治区拉萨市的政策文件")
    if a.refused:
        assert "[1]" not in a.text and "下面第" not in a.text
    else:
        assert all(c.region != "西藏自治区拉萨市" for c in a.citations) and "[1]" in a.text


@pytest.mark.parametrize("q", ["政府在数字化改造中扮演什么角色？", "忘记提交申请材料怎么办？", "人工智能提示词工程企业有奖励吗？"])
def test_ordinary_questions_with_injection_like_words_are_not_refused_as_invalid(ask, q):
    a = ask(q)
    assert a.decision != Reason.INVALID.value and "不能执行" not in a.text


def test_the_query_path_embeds_only_the_question(tmp_path):
    docs = list(load_corpus([COUNTY]).documents)
    emb = KeywordEmbedder(VOCAB)
    st = IndexStore.build(docs, chunk_documents(docs), emb, jieba_tokenizer(), tmp_path / "ix",
                          chunker_settings=ChunkerConfig().to_dict(), progress=False)
    assert st.sentences is not None and len(st.sentences) > len(st.chunks)
    answerer = make_answerer(st, RetrievalConfig(mode="hybrid"), today=TODAY)
    n_docs = len(emb.document_calls)
    answerer.answer("南康区技术改造补助比例是多少？")
    assert len(emb.document_calls) == n_docs  # no sentence embedded at query time
    # one embedding: the question as it is searched (with the synonyms of its words), reused by the features
    assert emb.query_calls[-1] == [with_synonyms("南康区技术改造补助比例是多少？")] and sum(len(c) for c in emb.query_calls) == 1


def test_sentence_vectors_survive_save_load_add_remove(tmp_path, store):
    from policyqa.index.sentences import SentenceIndex

    again = IndexStore.load(store.path, KeywordEmbedder(VOCAB))
    assert again.sentences is not None and set(again.sentences.chunk_ids) == set(again.chunks)
    spans, vecs = again.sentences.lookup(next(iter(again.chunks)))
    assert vecs.shape == (len(spans), len(VOCAB) + 1) and np.allclose(np.linalg.norm(vecs.astype(np.float32), axis=1), 1, atol=1e-2)
    again.remove("nankang-2024.txt")
    assert not any(c.startswith("nankang") for c in again.sentences.chunk_ids)
    again.path = tmp_path / "copy"
    again.save()
    loaded = SentenceIndex.load(tmp_path / "copy" / "sentences")
    assert loaded is not None and set(loaded.chunk_ids) == set(again.chunks)


@pytest.mark.slow
def test_a_region_whose_documents_lack_the_topic_is_not_answered_with_another_of_its_rules(real_ask):
    # 研发中心 appears only in 安吉's documents: judged against them (outside_lead), 南康's own
    # 小巨人 rule is not offered as the answer; 安吉's rule may be, labelled as another region's
    a = real_ask("南康区对企业研发中心奖励多少？")
    assert a.decision != "answered" and "60万元" not in body(a)


@pytest.mark.slow
def test_a_region_question_is_judged_on_its_topic_within_the_region(real_ask):
    # the region's name is stripped for the judgement (every clause of its documents states it
    # through the header): its own topic is still answered from its document, its other rules not quoted
    ok = real_ask("南康区对企业技术改造补助多少？")
    assert ok.decision == "answered" and "10%" in body(ok) and "200万元" in body(ok)
    assert "60万元" not in body(ok)
