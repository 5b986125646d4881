"""Policy items stored with the index (index/items.py): derived at build, per document on
add/remove, read back on load, derived once for an index saved without them.

The corpus is three small policies written for these tests (a county, its
province, and an older version of the county's policy that a newer one repeals).
"""

import json

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, document_from_raw
from policyqa.corpus.readers import RawDoc
from policyqa.index import items as items_mod
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.items import ITEMS_FILE, ItemFile, ItemStore, sync_items
from policyqa.index.store import IndexStore
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings

COUNTY = """射阳县支持工业企业发展的若干措施
射政发〔2024〕7号
一、对新认定的国家级专精特新“小巨人”企业、省级专精特新中小企业，分别给予一次性奖励70万元、25万元。
二、对当年完成设备投资额200万元以上的技术改造项目，按设备投资额的9%给予补助，单个项目最高补助180万元。
射阳县人民政府
2024年3月1日
"""

PROVINCE = """江苏省关于支持企业上云的通知
第一条 对新认定的省五星级上云企业，给予一次性奖励12万元。
江苏省工业和信息化厅
2024年2月1日
"""

OLD = """青川县人民政府关于印发《青川县支持工业企业发展的若干政策》的通知
青政发〔2020〕4号
一、对新认定的国家级专精特新“小巨人”企业，给予一次性奖励40万元。
二、本政策自2020年3月1日起施行，有效期5年。
青川县人民政府
2020年2月20日
"""

NEW = """青川县人民政府关于印发《青川县支持工业企业发展的若干政策》的通知
青政发〔2023〕9号
一、对新认定的国家级专精特新“小巨人”企业，给予一次性奖励60万元。
二、本政策自2023年5月1日起施行，有效期3年。《青川县支持工业企业发展的若干政策》（青政发〔2020〕4号）同时废止。
青川县人民政府
2023年4月10日
"""

CHUNKER = ChunkerConfig().to_dict()


def doc(doc_id, text):
    return document_from_raw(RawDoc(doc_id=doc_id, text=text, source=doc_id, fmt="txt"))


def embedder():
    return KeywordEmbedder(["奖励", "补助", "上云"])


def build(path, texts):
    docs = [doc(d, t) for d, t in texts.items()]
    return IndexStore.build(docs, chunk_documents(docs), embedder(), jieba_tokenizer(), path,
                            chunker_settings=CHUNKER, progress=False)


def load(path):
    return IndexStore.load(path, embedder(), tokenizer=jieba_tokenizer())


@pytest.fixture
def calls(monkeypatch):
    """The documents whose items were extracted, in order."""
    seen = []
    real = items_mod.extract_items

    def counting(meta, chunks, vocab=None):
        seen.append(meta.doc_id)
        return real(meta, chunks, vocab)

    monkeypatch.setattr(items_mod, "extract_items", counting)
    return seen


def amounts(store, doc_id):
    return sorted(it.amount_wan or it.rate for it in store.items.items_for(doc_id))


def test_build_stores_items_and_load_reads_them_without_extracting(tmp_path, calls):
    store = build(tmp_path / "index", {"county.txt": COUNTY, "province.txt": PROVINCE})
    assert sorted(calls) == ["county.txt", "province.txt"]
    lines = (tmp_path / "index" / ITEMS_FILE).read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["format"] == 1 and head["extractor"] == items_mod.extractor_version()
    assert head["documents"] == store.manifest["document_sha256"]
    assert len(lines) - 1 == len(store.items) == 4
    calls.clear()
    again = load(tmp_path / "index")
    assert calls == [] and not again.items_report.derived  # read back, not re-extracted
    assert [it.to_dict() for it in again.items.all_items()] == [it.to_dict() for it in store.items.all_items()]
    assert amounts(again, "county.txt") == [0.09, 25, 70]


def test_add_derives_only_the_added_document_and_remove_drops_one(tmp_path, calls):
    store = build(tmp_path / "index", {"county.txt": COUNTY, "province.txt": PROVINCE})
    before = {it.item_id: it for it in store.items.all_items()}
    calls.clear()
    store.add([doc("old.txt", OLD)], chunk_documents([doc("old.txt", OLD)]))
    assert calls == ["old.txt"]  # not recomputed for the documents already indexed
    assert store.items_report.derived == ("old.txt",)
    assert all(store.items.items_for(d) == tuple(it for it in before.values() if it.doc_id == d)
               for d in ("county.txt", "province.txt"))
    store.save()
    calls.clear()
    assert amounts(load(tmp_path / "index"), "old.txt") == [40] and calls == []
    store.remove("province.txt")
    store.save()
    reloaded = load(tmp_path / "index")
    assert reloaded.items.doc_ids() == ["county.txt", "old.txt"] and calls == []
    with pytest.raises(KeyError):
        reloaded.items.items_for("province.txt")


def test_a_new_version_does_not_rederive_the_old_ones_items(tmp_path, calls):
    store = build(tmp_path / "index", {"old.txt": OLD, "county.txt": COUNTY})
    calls.clear()
    store.add([doc("new.txt", NEW)], chunk_documents([doc("new.txt", NEW)]))
    assert calls == ["new.txt"]
    assert store.docs["old.txt"].superseded_by == ("new.txt",)  # the link is metadata, read when matching
    assert amounts(store, "old.txt") == [40]


def test_an_index_saved_without_items_derives_them_once_and_says_so(tmp_path, calls, capsys):
    build(tmp_path / "index", {"county.txt": COUNTY, "province.txt": PROVINCE})
    (tmp_path / "index" / ITEMS_FILE).unlink()  # as written before items were stored
    calls.clear()
    store = load(tmp_path / "index")
    assert sorted(calls) == ["county.txt", "province.txt"]
    msg = store.items_report.message(str(store.path))
    assert f"no {ITEMS_FILE}" in msg and "2 document(s)" in msg and "\n" not in msg
    assert amounts(store, "county.txt") == [0.09, 25, 70]
    # the knowledge base stores what it derived, so the next open reads it
    calls.clear()
    settings = Settings(home=tmp_path, index_dir=tmp_path / "index", embedding_model="fake-keyword", embedding_backend="fake")
    kb = KnowledgeBase.open(settings, build_if_missing=False,
                            progress=False, retrieval=RetrievalConfig(mode="bm25"), llm=None)
    assert sorted(calls) == ["county.txt", "province.txt"] and "derived the policy items" in capsys.readouterr().err
    assert (tmp_path / "index" / ITEMS_FILE).is_file() and len(kb.items) == 4
    calls.clear()
    assert not load(tmp_path / "index").items_report.derived and calls == []


@pytest.mark.parametrize("damage", ["garbage", "empty", "other-format", "half-line"])
def test_a_damaged_items_file_is_derived_again_never_a_crash(tmp_path, calls, damage):
    build(tmp_path / "index", {"county.txt": COUNTY, "province.txt": PROVINCE})
    path = tmp_path / "index" / ITEMS_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text({"garbage": "\x00not json", "empty": "", "other-format": '{"format": 99}\n',
                     "half-line": text[: len(text) - 40]}[damage], encoding="utf-8")
    calls.clear()
    store = load(tmp_path / "index")
    assert sorted(calls) == ["county.txt", "province.txt"] and len(store.items) == 4


def test_items_of_a_changed_document_or_another_extractor_are_derived_again(tmp_path, calls, monkeypatch):
    build(tmp_path / "index", {"county.txt": COUNTY, "province.txt": PROVINCE})
    path = tmp_path / "index" / ITEMS_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    head["documents"]["province.txt"] = "0" * 64  # read from other text (a stale file)
    path.write_text("\n".join([json.dumps(head)] + lines[1:]) + "\n", encoding="utf-8")
    calls.clear()
    assert load(tmp_path / "index").items_report.derived == ("province.txt",) and calls == ["province.txt"]
    monkeypatch.setattr(items_mod, "extractor_version", lambda: "another-version")
    calls.clear()
    report = load(tmp_path / "index").items_report
    assert sorted(calls) == ["county.txt", "province.txt"] and "another extractor version" in report.reason


def test_item_file_is_an_item_store_and_sync_is_backend_neutral():
    """What a Milvus side collection implements: four verbs keyed by document."""

    class DictStore:  # the smallest other backend
        extractor = ""

        def __init__(self):
            self.rows = {}

        def documents(self):
            return {d: sha for d, (sha, _) in self.rows.items()}

        def put(self, doc_id, sha256, items):
            self.rows[doc_id] = (sha256, tuple(items))

        def delete(self, doc_id):
            self.rows.pop(doc_id, None)

        def catalog(self):
            from policyqa.corpus.items import ItemCatalog

            return ItemCatalog({d: its for d, (_, its) in self.rows.items()})

    d = doc("county.txt", COUNTY)
    docs, chunks = {d.doc_id: d.meta}, chunk_documents([d])
    for store in (ItemFile(), DictStore()):
        assert isinstance(store, ItemStore)
        r = sync_items(store, docs, lambda _: chunks, {"county.txt": "abc"})
        assert r.derived == ("county.txt",) and len(store.catalog().items_for("county.txt")) == 3
        assert not sync_items(store, docs, lambda _: chunks, {"county.txt": "abc"}).changed
        assert sync_items(store, {}, lambda _: [], {}).dropped == ("county.txt",)
        assert store.catalog().doc_ids() == []


def test_knowledge_base_items_follow_adds_and_match_flags_the_old_version(tmp_path, calls):
    from datetime import date

    store = build(tmp_path / "index", {"old.txt": OLD, "county.txt": COUNTY})
    kb = KnowledgeBase(store, Settings(home=tmp_path), retrieval=RetrievalConfig(mode="bm25"))
    (tmp_path / "new.txt").write_text(NEW, encoding="utf-8")
    calls.clear()
    kb.add([tmp_path / "new.txt"])
    assert calls == ["new.txt"]
    res = kb.match({"region": "青川县", "honours": ["国家级专精特新小巨人"]}, today=date(2024, 1, 1))
    assert [m.item.amount_wan for m in res.applicable] == [60]
    assert [(m.item.amount_wan, m.superseded) for m in res.items if m.item.doc_id == "old.txt"] == [(40, True)]
    kb.remove("new.txt")
    res = kb.match({"region": "青川县", "honours": ["国家级专精特新小巨人"]}, today=date(2024, 1, 1))
    assert [m.item.amount_wan for m in res.applicable] == [40]  # the old version is current again


def test_a_milvus_knowledge_base_matches_like_the_in_process_one(tmp_path):
    """Milvus keeps no item store yet: the knowledge base derives items from its chunks, same result."""
    from datetime import date

    pytest.importorskip("pymilvus")
    from policyqa.index.milvus_store import MilvusConfig, MilvusStore

    texts = {"county.txt": COUNTY, "province.txt": PROVINCE, "old.txt": OLD, "new.txt": NEW}
    docs = [doc(d, t) for d, t in texts.items()]
    chunks = chunk_documents(docs)
    milvus = MilvusStore.build(docs, chunks, embedder(), jieba_tokenizer(), MilvusConfig(str(tmp_path / "kb.db")),
                               chunker_settings=CHUNKER, progress=False)
    inproc = build(tmp_path / "index", texts)
    profile = {"region": "江苏省盐城市射阳县", "honours": ["国家级专精特新小巨人"],
               "planned_investments": [{"kind": "设备", "amount_wan": 1000}]}
    results = []
    for store, backend in ((milvus, "milvus"), (inproc, "inprocess")):
        kb = KnowledgeBase(store, Settings(home=tmp_path / backend, backend=backend), retrieval=RetrievalConfig(mode="bm25"), llm=None)
        results.append(kb.match(profile, today=date(2025, 6, 1)).to_json())
    assert results[0] == results[1] and [i["estimate_wan"] for i in results[0]["items"] if i["applicable"]] == [90, 70]
