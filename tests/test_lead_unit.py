"""Responsible-unit questions pick the lead unit of the section about the question's topic.

``tests/data/lead_unit/shiwan-2024.txt`` (written for this test) is a responsibility
plan whose title already names the whole subject (专精特新企业培育), so every lead-unit
note of it covers the question's words through the title alike; its sections are led by
different units.  The note that governs the section whose own heading is about the asked
topic answers: 培育 → 「一、加强梯度培育管理」 → 县工信局; a question naming another
section's item (上市) still gets that section's unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "lead_unit"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["培育", "金融", "上市", "人才"], tmp_path_factory.mktemp("lead") / "index", threshold=0.0)


def test_the_unit_of_the_section_whose_heading_is_the_topic_answers(answerer):
    b = body(answerer.answer("石湾县专精特新企业培育的牵头单位是谁？"))
    assert "县工信局" in b.split("责任单位")[0] and "县金融服务中心" not in b


def test_a_question_naming_another_sections_item_gets_that_sections_unit(answerer):
    b = body(answerer.answer("石湾县专精特新企业上市培育由谁牵头？"))
    assert "县金融服务中心" in b
