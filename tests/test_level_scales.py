"""A rule for 「X及以上」 covers the levels above X (``level_scales`` in ``qa/data/cues.json``):
a question about a 硕士 or 博士 finds 「本科及以上学历人才」.  ``tests/data/levels/`` is a
county policy written for this test; it never names 硕士 or 博士."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.qa.cues import present

DATA = Path(__file__).parent / "data" / "levels"


@pytest.mark.parametrize("level,text,want", [
    ("博士", "对新引进的全日制本科及以上学历人才", True),
    ("硕士", "硕士以上学历的人才", True),
    ("本科", "本科及以上学历人才", True),
    ("本科", "硕士及以上学历人才", False),  # a rule from a higher level up does not cover a lower one
    ("博士", "本科学历人才", False),  # a level without 及以上 covers only itself
])
def test_a_rule_from_a_level_up_names_every_level_above_it(level, text, want):
    assert present(level, text) is want


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["人才", "补贴"], tmp_path_factory.mktemp("levels") / "index", threshold=0.0)


@pytest.mark.parametrize("question", ["清禾县企业引进一名全职博士，每月补贴多少？", "清禾县新引进硕士有租房补贴吗？"])
def test_a_question_about_a_higher_level_is_answered_by_the_rule_from_a_lower_level_up(answerer, question):
    body = answerer.answer(question).text.split("\n来源：", 1)[0]
    assert "本科及以上" in body and "600元" in body
