"""A table row is a unit of its own; a question asking several of a table's rows at once gets them.

「从国家级到市级分别奖多少」 (``respective_cues``) answered by one row of a table gets the rows from
that one to the farthest the question names, in table order; a list question (哪几类, 有哪些) gets
every row stating the figure it asks; a question asking one row keeps that row.  The document in
``tests/data/table_rows/`` is a county policy written for these tests as a Markdown page with two
pipe tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "table_rows"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["奖励", "补助", "设备"], tmp_path_factory.mktemp("table_rows") / "index",
                           today=lambda: date(2026, 6, 1), threshold=0.0)


def test_rows_of_a_markdown_table_are_units_naming_their_columns(answerer):
    rows = [c for c in answerer.retriever.chunks.values() if c.kind == "table"]
    assert len(rows) == 7
    assert any(c.text == "认定类别：市级专精特新中小企业 | 一次性奖励：8万元" for c in rows)


def test_several_rows_asked_at_once_get_the_rows_between(answerer):
    b = body(answerer.answer("青杉县专精特新从国家级小巨人到市级，分别奖多少？"))
    assert all(f in b for f in ("110万元", "35万元", "8万元")), b
    assert "3万元" not in b.replace("35万元", "") and "260万元" not in b  # past the farthest row asked; another article


def test_a_list_question_gets_every_row_stating_the_asked_figure(answerer):
    # (here the article's intro 「按下表给予补助：」 is chosen: it is completed with the rows of its table)
    b = body(answerer.answer("青杉县买哪几类专用设备能补？补助比例各是多少？"))
    assert all(f in b for f in ("12%", "15%", "10%")), b
    assert b.count("设备类别：") == 3
    assert "数控机床：设备类别" not in b  # a row's label is not put before the row again


def test_one_row_asked_keeps_one_row(answerer):
    b = body(answerer.answer("青杉县工业机器人补助比例是多少？"))
    assert "15%" in b and "12%" not in b and "10%" not in b, b

