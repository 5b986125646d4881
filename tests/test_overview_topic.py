"""Overview questions about rewards (「…有哪些补贴」) list the money clauses about the
question's topic, not every clause of the document stating an amount.

``tests/data/synonyms/chenghu-2025.txt`` (written for these tests): four articles with
amounts or rates — fairs, doctors, cloud services, loan interest.  A topic word shared by
every clause through the title or the place (澄湖县, 中小企业) does not count."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "synonyms"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["云", "展会", "贷款", "人才"], tmp_path_factory.mktemp("overview") / "index", threshold=0.0)


def test_an_overview_of_one_topics_rewards_lists_only_that_topic(answerer):
    b = body(answerer.answer("澄湖县对企业上云有哪些补贴？"))
    assert "30%" in b  # the cloud article
    assert "展位费" not in b and "贴息" not in b and "3000元" not in b


def test_an_overview_without_a_topic_lists_every_reward(answerer):
    b = body(answerer.answer("澄湖县对中小企业有哪些补贴？"))
    for fig in ("10万元", "3000元", "30%", "30万元"):
        assert fig in b, fig
