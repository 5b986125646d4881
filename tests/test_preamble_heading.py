"""「前言」 is the label the chunker gives text before a document's first heading, not a
heading of the document: an answer never shows it as an item's or a note's heading
(qa.compose.heading_of, top_heading; qa.shapes list items).  Own notice, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.corpus.chunk import PREAMBLE
from policyqa.corpus.types import Chunk
from policyqa.index.types import Hit
from policyqa.qa.compose import heading_of, top_heading
from policyqa.qa.shapes import _items_of

DATA = Path(__file__).parent / "data" / "preamble"


def _hit(section: str, text: str) -> Hit:
    ch = Chunk(chunk_id="c", doc_id="d", section=section, text=text, start=0, end=len(text), header="《某县通知》")
    return Hit(chunk=ch, score=1.0, rank=1)


def test_the_preamble_label_is_no_heading():
    h = _hit(PREAMBLE, "现就有关事项通知如下：1、甲。2、乙。")
    assert heading_of(h) == "" and top_heading(h) == ""
    h = _hit("一、总则 > 第三条 资金来源", "资金由县财政安排。")
    assert heading_of(h) == "第三条 资金来源" and top_heading(h) == "一、总则"


def test_items_of_a_preamble_passage_carry_no_heading():
    items = _items_of(_hit(PREAMBLE, "现就有关措施通知如下：1、对甲给予补贴。2、对乙给予贴息。3、对丙给予返还。"), 0.9)
    assert [i.text[:2] for i in items] == ["1、", "2、", "3、"]
    assert all(i.intro == "" for i in items)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["补贴", "贴息", "返还", "补助", "帮扶", "措施"], tmp_path_factory.mktemp("preamble") / "index",
                           threshold=0.0)


def test_a_list_from_a_notice_without_headings_shows_no_preamble_label(answerer):
    a = answerer.answer("云禾县纾困帮扶有哪些措施？")
    text = body(a)
    assert "20%" in text and "50%" in text  # the notice's measures are listed
    assert PREAMBLE not in text
