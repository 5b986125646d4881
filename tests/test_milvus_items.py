"""Policy items stored with the Milvus backend (Milvus Lite): the side collection
``C_items``, kept in step with documents on build, add, remove and load."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import CHUNKER_SETTINGS, KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.items import ItemCatalog
from policyqa.corpus.pipeline import chunk_documents, load_corpus

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from policyqa.index.milvus_store import MilvusConfig, MilvusStore  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "eligibility"


def _dicts(catalog: ItemCatalog) -> dict[str, list[dict]]:
    return {d: [it.to_dict() for it in catalog.items_for(d)] for d in catalog.doc_ids()}


def _load(config):
    return MilvusStore.load(config, KeywordEmbedder(["奖励"]), tokenizer=jieba_tokenizer())


def test_items_follow_documents_in_milvus(tmp_path):
    report = load_corpus([str(FIXTURES)])
    docs = list(report.documents)
    first, added = [d for d in docs if d.doc_id != "xiangyang_2024.txt"], [d for d in docs if d.doc_id == "xiangyang_2024.txt"]
    chunks = chunk_documents(first)
    config = MilvusConfig(str(tmp_path / "m.db"), collection="kb")
    store = MilvusStore.build(first, chunks, KeywordEmbedder(["奖励"]), jieba_tokenizer(), config, CHUNKER_SETTINGS, progress=False)
    expected = ItemCatalog.build({d.doc_id: d.meta for d in first}, chunks)
    assert len(expected.all_items()) >= 5
    assert _dicts(store.items) == _dicts(expected)  # the same items as the in-process index derives
    # reopened: read back, nothing derived again
    again = _load(config)
    assert _dicts(again.items) == _dicts(expected) and not again.items_report.derived
    # add: only the added document's items are derived
    new_chunks = chunk_documents(added)
    again.add(added, new_chunks)
    assert again.items_report.derived == ("xiangyang_2024.txt",)
    assert any("100万元" in it.amount_text for it in again.items.items_for("xiangyang_2024.txt"))
    assert set(_load(config).items.doc_ids()) == {d.doc_id for d in docs}
    # remove: its items go with it, in memory and in Milvus
    again.remove("xiangyang_2024.txt")
    assert "xiangyang_2024.txt" not in again.items.doc_ids()
    reopened = _load(config)
    assert _dicts(reopened.items) == _dicts(expected) and not reopened.items_report.derived
    reopened.close()
    again.close()
    store.close()


def test_index_written_without_items_gets_them_on_first_load(tmp_path):
    docs = list(load_corpus([str(FIXTURES)]).documents)
    chunks = chunk_documents(docs)
    config = MilvusConfig(str(tmp_path / "m.db"), collection="kb")
    store = MilvusStore.build(docs, chunks, KeywordEmbedder(["奖励"]), jieba_tokenizer(), config, CHUNKER_SETTINGS, progress=False)
    store.client.drop_collection("kb_items")  # as an index from before items were stored in Milvus
    store.close()
    old = _load(config)
    assert set(old.items_report.derived) == {d.doc_id for d in docs} and "no policy-item collection" in old.items_report.reason
    assert _dicts(old.items) == _dicts(ItemCatalog.build({d.doc_id: d.meta for d in docs}, chunks))
    old.close()
    assert not _load(config).items_report.derived  # stored from then on


def test_docs_items_cli_reads_the_milvus_items(tmp_path, monkeypatch, capsys):
    import argparse
    import json

    from policyqa.match_commands import cmd_doc_items
    from policyqa.settings import Settings

    monkeypatch.setenv("POLICYQA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYQA_BACKEND", "milvus")
    config = Settings.from_env().milvus()
    docs = [d for d in load_corpus([str(FIXTURES)]).documents if d.doc_id == "luoyang_2024.txt"]
    MilvusStore.build(docs, chunk_documents(docs), KeywordEmbedder(["奖励"]), jieba_tokenizer(), config, CHUNKER_SETTINGS,
                      progress=False).close()
    args = argparse.Namespace(items="luoyang_2024.txt", json=True, corpus=None, index=None)
    assert cmd_doc_items(args) == 0
    items = json.loads(capsys.readouterr().out)
    assert {it["amount_text"] for it in items} >= {"50万元", "30万元", "80万元"}
