"""Questions are searched with the synonyms of their words (``qa/data/cues.json``):
a question about 融资 finds the article that writes 贷款.  ``tests/data/synonyms/``
is a county policy written for this test: four articles, only one about money
for enterprises, and it never says 融资."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.qa.cues import with_synonyms

DATA = Path(__file__).parent / "data" / "synonyms"


def test_the_synonyms_of_a_questions_words_are_appended_once():
    out = with_synonyms("企业融资有什么支持？")
    assert out.startswith("企业融资有什么支持？（") and "贷款" in out and "信贷" in out
    assert out.count("贷款") == 1
    assert with_synonyms("企业开拓市场有什么办法？") == "企业开拓市场有什么办法？"  # no word with a synonym: unchanged
    assert "贷款" not in with_synonyms("贷款贴息").split("（")[-1]  # a synonym the question already has is not repeated


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["融资", "贷款", "展会", "人才", "云"], tmp_path_factory.mktemp("syn") / "index", threshold=0.0)


def test_a_question_is_searched_with_the_synonyms_of_its_words(answerer):
    answerer._prepare()
    top = answerer._search("澄湖县企业融资有什么支持？", k=1)
    assert top and "贷款" in top[0].chunk.text
    plain = answerer.retriever.search("澄湖县企业融资有什么支持？", k=1)  # without them BM25 matches only 支持/企业
    assert plain and "贷款" not in plain[0].chunk.text


def test_a_follow_up_answered_by_a_synonym_of_its_object_is_not_said_to_be_unstated(answerer):
    from policyqa.qa.types import Turn

    first = answerer.answer("澄湖县企业参加展会补助多少？")
    assert "50%" in first.text
    then = answerer.answer("那融资这块呢？", history=[Turn("澄湖县企业参加展会补助多少？", first.text, first.resolved_question)])
    b = then.text.split("\n来源：", 1)[0]
    assert "贷款" in b and "30万元" in b  # the article that writes 贷款 for 融资
    assert "「融资」" not in b and "没有写明" not in b  # no note that the documents lack it


def test_a_total_asked_in_everyday_words_is_the_document_s_cumulative_cap(tmp_path):
    """「加起来」「加在一起」「一共」 ask for what documents write as 累计 (or 合计, 总额):
    the total cap of the whole policy — the cap sentence naming the document itself
    (本措施: ``ExtractiveComposer._total_cap``) — not one article's own cap (10万元)."""
    assert "累计" in with_synonyms("一家企业一年加起来最多能拿多少？")
    assert "累计" in with_synonyms("各项补贴加在一起有没有上限？")
    from fakes import body

    answerer = folder_answerer(Path(__file__).parent / "data" / "own_programme", ["招工", "人才", "补贴", "累计"], tmp_path / "index",
                               threshold=0.0)
    a = answerer.answer("泸溪县这套政策，一家企业一年各项补贴加起来最多能拿多少？")
    assert "20万元" in body(a) and "10万元" not in body(a), a.text
    # a total of one item (招工补贴) is that item's own cap
    a = answerer.answer("泸溪县招工补贴一家企业一年加起来最多能拿多少？")
    assert "10万元" in body(a) and "20万元" not in body(a), a.text
