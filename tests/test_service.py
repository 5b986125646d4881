"""KnowledgeBase: answer() plus document management, never half-adding."""

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings


@pytest.fixture()
def kb(tmp_path):
    docs = list(load_corpus().documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(["补贴", "奖励", "测试市"]), jieba_tokenizer(),
                             tmp_path / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)
    return KnowledgeBase(store, Settings(home=tmp_path), retrieval=RetrievalConfig(mode="bm25"))


def _policy(tmp_path, name="测试市机器人补贴.txt", figure="37"):
    p = tmp_path / name
    p.write_text(f"测试市关于机器人应用的通知\n一、支持政策\n1.测试市对购买协作机器人的企业按设备价款的{figure}%给予补助。", encoding="utf-8")
    return p


def test_add_then_answer_then_remove(kb, tmp_path):
    before = kb.stats()
    rep = kb.add([_policy(tmp_path)])
    assert rep.added == ("测试市机器人补贴.txt",) and rep.chunks_embedded >= 1 and not rep.skipped
    assert kb.stats()["documents"] == before["documents"] + 1
    a = kb.answer("测试市买协作机器人补贴几成？")
    assert "37%" in a.text and a.citations[0].doc_id == "测试市机器人补贴.txt"
    # the change is on disk: a fresh load sees it
    again = IndexStore.load(kb.store.path, KeywordEmbedder(["补贴", "奖励", "测试市"]))
    assert "测试市机器人补贴.txt" in again.docs
    assert kb.remove("测试市机器人补贴.txt") >= 1
    assert kb.stats() == before
    with pytest.raises(KeyError):
        kb.remove("测试市机器人补贴.txt")


def test_replacing_a_document_keeps_one_copy(kb, tmp_path):
    kb.add([_policy(tmp_path, figure="37")])
    rep = kb.add([_policy(tmp_path, figure="41")])
    assert rep.replaced == ("测试市机器人补贴.txt",) and rep.added == ()
    a = kb.answer("测试市买协作机器人补贴几成？")
    assert "41%" in a.text and "37%" not in a.text


def test_unreadable_upload_adds_nothing(kb, tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"\x00\xff" * 100)
    before = kb.stats()
    rep = kb.add([bad])
    assert rep.added == () and len(rep.skipped) == 1 and "x.txt" in rep.skipped[0].reason
    assert kb.stats() == before


def test_failed_save_leaves_memory_as_on_disk(kb, tmp_path, monkeypatch):
    before = set(kb.store.docs)

    def boom():
        raise OSError("disk full")

    monkeypatch.setattr(kb.store, "save", boom)
    with pytest.raises(OSError):
        kb.add([_policy(tmp_path)])
    assert set(kb.store.docs) == before
    assert "37%" not in kb.answer("测试市买协作机器人补贴几成？").text


def test_content_hashes_cover_every_document(kb):
    hashes = kb.content_hashes()
    assert set(hashes) == set(kb.store.docs) and all(len(h) == 64 for h in hashes.values())


def test_builtin_index_of_other_chunker_is_rebuilt_but_user_index_is_not(tmp_path, monkeypatch):
    import policyqa.qa.service as service
    from policyqa.index.store import IndexMismatch

    docs = list(load_corpus().documents)
    settings = Settings(home=tmp_path)
    old = ChunkerConfig(max_chars=250, min_chars=60)
    IndexStore.build(docs, chunk_documents(docs, old), KeywordEmbedder(["补贴"], name="multilingual-e5-small", backend="torch"),
                     jieba_tokenizer(), settings.index_dir, chunker_settings=old.to_dict(), progress=False)
    fake = lambda s: (lambda: KeywordEmbedder(["补贴"], name="multilingual-e5-small", backend="torch"))  # noqa: E731
    monkeypatch.setattr(service, "embedder_factory", fake)
    built = []
    real_build = service.build_index
    monkeypatch.setattr(service, "build_index", lambda s, **kw: built.append(1) or real_build(s, **{"embedder": fake(s)(), **kw}))
    kb = service.KnowledgeBase.open(settings, progress=False, llm=None)
    assert built == [1] and kb.store.manifest["chunker"] == ChunkerConfig().to_dict()
    # with a user's document in it, a mismatching index is not silently rebuilt
    kb.add([_policy(tmp_path)])
    IndexStore.build(list(load_corpus([tmp_path / "测试市机器人补贴.txt"]).documents) + docs, chunk_documents(docs, old),
                     KeywordEmbedder(["补贴"], name="multilingual-e5-small", backend="torch"), jieba_tokenizer(),
                     settings.index_dir, chunker_settings=old.to_dict(), progress=False)
    with pytest.raises(IndexMismatch, match="policyqa build"):
        service.KnowledgeBase.open(settings, progress=False, llm=None)
