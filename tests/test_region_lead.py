"""The lead of an answer about a region the knowledge base has no document of its own for.

``tests/data/national/``: a national notice (工业和信息化部, applies everywhere) and a
德清县 policy, written for this test.  Only the national notice applies to 昆山 (江苏);
it is not 昆山's own document, so the answer must not say "昆山的文件中没有…" as if
there were some, but that the knowledge base has no 昆山 documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.qa.decision import Reason

DATA = Path(__file__).parent / "data" / "national"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["展会", "展位费", "博士"], tmp_path_factory.mktemp("national") / "index", threshold=0.5)


def test_a_region_with_only_national_documents_is_said_to_have_none_of_its_own(answerer):
    a = answerer.answer("昆山企业引进博士有生活补贴吗？")
    assert a.decision == Reason.REFUSED_REGION.value
    assert a.text.startswith("知识库中没有江苏省苏州市昆山市的政策文件")
    assert "昆山市的文件中没有" not in a.text


def test_a_region_with_its_own_documents_is_said_to_lack_the_rule(answerer):
    a = answerer.answer("德清企业上云有补贴吗？")
    if a.decision == Reason.REFUSED_REGION.value:
        assert a.text.startswith("浙江省湖州市德清县的文件中没有找到")


def test_a_region_answered_from_national_documents_alone_is_told_it_has_none_of_its_own(tmp_path):
    """The national notice answers (it applies to 昆山 too), and the lead says the knowledge base
    has no document of 昆山's own; a region with its own answering document gets no such lead."""
    ask = folder_answerer(DATA, ["展会", "展位费", "博士", "申报"], tmp_path / "index", threshold=0.0).answer
    a = ask("昆山企业参加境外展会，每年几月底前申报？")
    assert a.decision == Reason.ANSWERED.value and {c.doc_id for c in a.citations} == {"miit-zhanhui-2025.txt"}
    assert a.region_note and a.region_note.startswith("知识库中没有江苏省苏州市昆山市的地方政策文件")
    assert a.text.startswith(a.region_note) and "6月底前" in a.text
    own = ask("德清企业参加境外展会，展位费补多少？")
    assert own.region_note is None and "60%" in own.text and "知识库中没有" not in own.text


def test_a_question_about_a_places_document_is_answered_from_its_own_not_a_national_one(answerer):
    """Both documents apply to 德清; asked when 德清's policy was issued, with the national
    notice ranked first, the answer is 德清's document's date, not the national notice's."""
    from policyqa.index.types import Hit
    from policyqa.qa.regions import asked_regions

    question = "德清的境外展会补助政策是哪天印发的？"
    national = answerer._doc_chunks("miit-zhanhui-2025.txt")[0]
    own = answerer._doc_chunks("deqing-2025.txt")[0]
    hits = [Hit(chunk=national, score=2.0, rank=1), Hit(chunk=own, score=1.0, rank=2)]
    d = answerer._document(question, ("date",), asked_regions(question, answerer.docs), hits, [])
    assert d is not None and d.selected[0].hit.chunk.doc_id == "deqing-2025.txt"
    assert "2025年2月1日" in d.selected[0].text
