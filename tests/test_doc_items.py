"""A document's policy items on the knowledge-base page and through the API (issue 13)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from fakes import CHUNKER_SETTINGS, KeywordEmbedder, jieba_tokenizer
from policyqa import app as entry
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.store import IndexStore
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings
from policyqa.web.auth import AdminAuth
from policyqa.web.render import doc_items_html
from policyqa.web.uploads import parse_in_process

FIXTURES = Path(__file__).parent / "fixtures" / "eligibility"


def _kb(tmp_path):
    settings = Settings(home=tmp_path / "home")
    docs = list(load_corpus([str(FIXTURES)]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(["奖励"]), jieba_tokenizer(), settings.index_dir,
                             chunker_settings=CHUNKER_SETTINGS, progress=False)
    return KnowledgeBase(store, settings), settings


def test_items_of_a_document_through_the_api_and_on_the_page(tmp_path):
    kb, settings = _kb(tmp_path)
    client = TestClient(entry.create_app(kb, settings, ui=False, auth=AdminAuth("t" * 24), parser=parse_in_process))
    items = client.get("/api/documents/luoyang_2024.txt/items").json()
    amounts = [it["amount_text"] for it in items]
    assert "50万元" in amounts and "30万元" in amounts and "80万元" in amounts  # one item per star tier
    robot = next(it for it in items if it["rate"] is not None)
    assert robot["cap_wan"] == 200 and robot["rate"] == 0.2
    assert client.get("/api/documents/nope.txt/items").status_code == 404
    assert client.get("/api/documents/nanyang_2024.txt/items").json() == []  # a target names no amount
    meta = next(m for m in kb.documents() if m.doc_id == "luoyang_2024.txt")
    html = doc_items_html(meta, kb.items_of("luoyang_2024.txt"))
    assert "政策事项" in html and "入库税收 ≥ 2000万元" in html and "200万元" in html
    assert "未从本文件识别出奖补条款" in doc_items_html(meta, ())
    assert doc_items_html(None, ()) == ""
    # the chat API answers an eligibility question from the same items (JSON: the stable keys plus "eligibility")
    j = client.post("/api/ask", json={"question": "我们在洛阳，去年入库税收1500万，能申请哪些奖励"}).json()
    assert j["decision"] == "answered" and j["eligibility"]["profile"]["tax_paid_wan"] == 1500
    assert all(c["doc_id"] == "luoyang_2024.txt" for c in j["citations"])


def test_item_text_is_escaped_on_the_page(tmp_path):
    from policyqa.corpus.items import PolicyItem
    from policyqa.corpus.types import DocMeta

    it = PolicyItem("d#1~0", "d", "d#1", "<b>一、</b>", "奖励", recipient="<script>x</script>", amount_text="10万元",
                    amount_wan=10.0)
    html = doc_items_html(DocMeta(doc_id="d"), (it,))
    assert "<script>" not in html and "&lt;script&gt;" in html
