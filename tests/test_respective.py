"""A question asking several figures at once (「从国家级到市级分别奖励多少」, ``respective_cues``
in ``qa/data/cues.json``) gets every clause of the rule's sentence that states one of them; a
question asking one of them keeps the one clause.  ``tests/data/respective/`` is a county policy
written for these tests: one sentence of ；-clauses, one level (or two) per clause."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.cues import load_cues
from policyqa.qa.service import make_answerer

DATA = Path(__file__).parent / "data" / "respective"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    docs = list(load_corpus([DATA]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(["奖励", "补助", "绿色"]), jieba_tokenizer(),
                             tmp_path_factory.mktemp("respective") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)
    return make_answerer(store, RetrievalConfig(mode="bm25"), today=lambda: date(2026, 6, 1), threshold=0.0)


def body(a) -> str:
    return a.text.split("\n来源：")[0]


@pytest.mark.parametrize("question, figures", [
    ("岚溪县评上绿色工厂，从国家级到市级分别奖励多少？", ("100万元", "50万元", "10万元")),
    ("岚溪县国家级和市级绿色工厂各给多少奖励？", ("100万元", "10万元")),
])
def test_several_figures_asked_at_once_get_every_clause_stating_one(answerer, question, figures):
    b = body(answerer.answer(question))
    assert all(f in b for f in figures), b
    assert "80万元" not in b  # the next article's figure is another sentence


def test_one_figure_asked_keeps_one_clause(answerer):
    b = body(answerer.answer("岚溪县国家级绿色工厂奖励多少？"))
    assert "100万元" in b and "50万元" not in b and "10万元。" not in b


def test_the_respective_cues_are_data():
    cues = load_cues()
    assert cues.respective.search("分别奖励多少") and not cues.respective.search("奖励多少")
