"""A unit that only says again what the question asks announces the answer that follows it
(``ExtractiveComposer._with_next``): 「企业办理奖补申报的方式作了调整。」, chosen for 「企业办理奖补
申报的方式作了什么调整？」, is quoted with the next sentence, which says how.  A unit with the
figure the question asks, or a list question, is left as it is.  Own passages, no index."""

from __future__ import annotations

import numpy as np

from fakes import jieba_tokenizer
from policyqa.corpus.types import Chunk
from policyqa.index.types import Hit
from policyqa.qa.candidates import candidates
from policyqa.qa.compose import ExtractiveComposer, Scored

TEXT = ("企业办理奖补申报的方式作了调整。企业登录“高台惠企通”平台在线填报申请表，上传营业执照和财务报表扫描件，不再报送纸质材料。"
        "对设备投资额300万元以上的技术改造项目，按设备投资额的6%给予补助。")


def _quoted(question: str, first: str, passage: str = TEXT) -> str:
    """The text quoted from ``passage`` when its unit starting with ``first`` is the selector's best."""
    tok = jieba_tokenizer().tokenize
    composer = ExtractiveComposer(tok, trimmer=None)
    hit = Hit(chunk=Chunk(chunk_id="c", doc_id="d", section="前言", text=passage, start=0, end=len(passage), header="《高台县通知》"), score=1.0, rank=1)
    cands = candidates([hit])
    logits = np.array([5.0 if c.text.startswith(first) else 0.0 for c in cands])
    sc = Scored(composer.query(question), [hit], cands, logits)
    return composer._selected(sc, int(np.argmax(logits))).text


def test_a_unit_restating_the_question_is_quoted_with_what_follows():
    text = _quoted("企业办理奖补申报的方式作了什么调整？", "企业办理")
    assert text.startswith("企业办理奖补申报的方式作了调整。") and "不再报送纸质材料" in text


def test_a_unit_saying_something_of_its_own_is_the_answer():
    text = _quoted("企业怎么在线填报奖补申请？", "企业登录")
    assert "高台惠企通" in text and "6%" not in text


def test_a_restating_unit_with_a_word_of_its_own_answers():
    own = "企业办理奖补申报的方式作了调整，改为网上办理。"
    text = _quoted("企业办理奖补申报的方式作了什么调整？", "企业办理", own + TEXT.split("。", 1)[1])
    assert text.endswith("改为网上办理。") and "不再报送" not in text  # 网上办理 is its own: it answers


def test_a_unit_stating_the_asked_figure_is_not_extended():
    text = _quoted("设备投资额300万元以上的技术改造项目补助比例是多少？", "对设备投资额")
    assert text.endswith("6%给予补助。")


def test_a_list_question_is_left_to_the_list():
    text = _quoted("企业办理奖补申报的方式作了哪些调整？", "企业办理")
    assert "不再报送" not in text
