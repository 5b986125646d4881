"""KnowledgeBase: answer() plus document management, never half-adding."""

import json
from pathlib import Path

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


def test_failed_save_leaves_memory_and_disk_as_they_were(kb, tmp_path, monkeypatch):
    before = set(kb.store.docs)

    def boom(self):
        raise OSError("disk full")

    monkeypatch.setattr(IndexStore, "save", boom)
    with pytest.raises(OSError):
        kb.add([_policy(tmp_path)])
    monkeypatch.undo()
    assert set(kb.store.docs) == before
    assert set(IndexStore.load(kb.store.path).docs) == before
    assert "37%" not in kb.answer("测试市买协作机器人补贴几成？").text
    assert not (kb.settings.uploads_dir / "测试市机器人补贴.txt").exists()  # the kept original is rolled back too


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


# --- nothing lost: damaged manifests, kept originals, rebuilds -------------------------------


def _fake_model(monkeypatch):
    import policyqa.qa.service as service

    fake = lambda s: (lambda: KeywordEmbedder(["补贴"], name="multilingual-e5-small", backend="torch"))  # noqa: E731
    monkeypatch.setattr(service, "embedder_factory", fake)
    built = []
    real_build = service.build_index
    monkeypatch.setattr(service, "build_index",
                        lambda s, **kw: built.append(1) or real_build(s, **{"embedder": fake(s)(), "tokenizer": jieba_tokenizer(), **kw}))
    return built


@pytest.mark.parametrize("manifest", [{}, {"embedding": None}, {"format": 1, "documents": "all"}, {"documents": []}, []])
def test_manifest_without_a_document_list_is_an_error_never_a_rebuild(kb, tmp_path, monkeypatch, capsys, manifest):
    from policyqa.index.store import IndexStoreError
    from policyqa.qa.service import KnowledgeBase as KB

    built = _fake_model(monkeypatch)
    kb.add([_policy(tmp_path)])
    index = kb.store.path
    docs_before = (index / "docs.jsonl").read_text(encoding="utf-8")
    (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStoreError) as err:
        KB.open(kb.settings, progress=True, llm=None)
    msg = str(err.value)
    assert "policyqa build --index" in msg and "\\n" not in msg and "document list" in msg
    assert built == []  # nothing rebuilt
    assert (index / "docs.jsonl").read_text(encoding="utf-8") == docs_before  # nothing touched
    assert capsys.readouterr().out == ""  # messages never on stdout (ask --json)


def test_embedding_null_with_user_documents_is_not_rebuilt(kb, tmp_path, monkeypatch, capsys):
    from policyqa.index.store import IndexMismatch
    from policyqa.qa.service import KnowledgeBase as KB

    built = _fake_model(monkeypatch)
    kb.add([_policy(tmp_path)])
    m = json.loads((kb.store.path / "manifest.json").read_text(encoding="utf-8"))
    m["embedding"] = None
    (kb.store.path / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="policyqa build"):
        KB.open(kb.settings, progress=True, llm=None)
    assert built == [] and capsys.readouterr().out == ""


def test_builtin_only_claim_must_agree_with_the_documents_file(tmp_path, monkeypatch, capsys):
    """A manifest listing only built-in documents is not proof when docs.jsonl holds a user's document."""
    from policyqa.index.store import IndexMismatch
    from policyqa.qa.service import KnowledgeBase as KB

    built = _fake_model(monkeypatch)
    settings = Settings(home=tmp_path)
    docs = list(load_corpus().documents)
    mine = list(load_corpus([_policy(tmp_path)]).documents)
    IndexStore.build(docs + mine, chunk_documents(docs + mine), KeywordEmbedder(["补贴"], name="other-model", backend="torch"),
                     jieba_tokenizer(), settings.index_dir, chunker_settings=ChunkerConfig().to_dict(), progress=False)
    m = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))
    m["documents"] = [d.doc_id for d in docs]  # the manifest lies: it omits the user's document
    (settings.index_dir / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexMismatch):
        KB.open(settings, progress=True, llm=None)
    assert built == []
    # an honest built-in-only index of another model is rebuilt, with the message on stderr
    IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(["补贴"], name="other-model", backend="torch"),
                     jieba_tokenizer(), settings.index_dir, chunker_settings=ChunkerConfig().to_dict(), progress=False)
    KB.open(settings, progress=True, llm=None)
    out = capsys.readouterr()
    assert built == [1] and out.out == "" and "rebuilding" in out.err


def test_originals_are_kept_and_a_rebuild_keeps_every_added_document(kb, tmp_path):
    from policyqa.qa.service import build_index, default_corpus

    src = _policy(tmp_path)
    kb.add([src])
    kept = kb.settings.uploads_dir / "测试市机器人补贴.txt"
    assert kept.read_bytes() == src.read_bytes() and kb.original("测试市机器人补贴.txt") == kept
    assert kb.store.docs["测试市机器人补贴.txt"].source == str(kept)
    assert [c.doc_id for c in kb.chunks("测试市机器人补贴.txt")] and all(
        c.doc_id == "测试市机器人补贴.txt" for c in kb.chunks("测试市机器人补贴.txt"))
    builtin = kb.documents()[0].doc_id
    assert kb.original(builtin).parent.name == "documents"  # a built-in document's original is the shipped file
    assert kb.original("../etc/passwd") is None
    # replacing moves the older original aside; nothing is deleted
    kb.add([_policy(tmp_path / "v2" if (tmp_path / "v2").mkdir() or True else tmp_path, figure="41")])
    assert "41%" in kept.read_text(encoding="utf-8")
    aside = list((kb.settings.uploads_dir / ".removed").iterdir())
    assert len(aside) == 1 and "37%" in aside[0].read_text(encoding="utf-8")
    # the default rebuild reads the kept originals with the built-in documents
    assert kept in default_corpus(kb.settings)
    store, skipped = build_index(kb.settings, embedder=KeywordEmbedder(["补贴"]), tokenizer=jieba_tokenizer(), progress=False)
    assert "测试市机器人补贴.txt" in store.docs and builtin in store.docs and not skipped
    # removing keeps the original aside too
    kb2 = KnowledgeBase(store, kb.settings, retrieval=RetrievalConfig(mode="bm25"))
    kb2.remove("测试市机器人补贴.txt")
    assert not kept.exists() and len(list((kb.settings.uploads_dir / ".removed").iterdir())) == 2


# --- cross-process safety and answers during a change ------------------------------------------


def test_two_writers_on_one_index_keep_both_documents(kb, tmp_path):
    """A second KnowledgeBase on the same index stands in for `policyqa add` in another process."""
    other = KnowledgeBase(IndexStore.load(kb.store.path, KeywordEmbedder(["补贴", "奖励", "测试市"])), kb.settings,
                          retrieval=RetrievalConfig(mode="bm25"))
    other.add([_policy(tmp_path, "cli.txt", "11")])  # the "CLI" adds first
    assert "cli.txt" not in kb.store.docs
    kb.add([_policy(tmp_path, "web.txt", "22")])  # the "server" saves: it reloads the newest index first
    on_disk = set(IndexStore.load(kb.store.path).docs)
    assert {"cli.txt", "web.txt"} <= on_disk and {"cli.txt", "web.txt"} <= set(kb.store.docs)
    assert other.refresh() and {"cli.txt", "web.txt"} <= set(other.store.docs)
    assert not other.refresh()  # nothing new: no reload


def test_refresh_notices_another_process_and_is_cheap_otherwise(kb, tmp_path):
    other = KnowledgeBase(IndexStore.load(kb.store.path, KeywordEmbedder(["补贴", "奖励", "测试市"])), kb.settings,
                          retrieval=RetrievalConfig(mode="bm25"))
    assert not kb.refresh()
    other.remove(kb.documents()[0].doc_id)
    assert kb.refresh() and len(kb.documents()) == len(other.documents())


def test_writers_in_separate_processes_are_serialised(kb, tmp_path):
    """A real second process holds the writer lock; our add waits for it and keeps its document."""
    import subprocess
    import sys
    import textwrap
    import time

    script = tmp_path / "other.py"
    marker = tmp_path / "embedding.marker"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from fakes import KeywordEmbedder, SlowEmbedder, jieba_tokenizer
        from policyqa.index.hybrid import RetrievalConfig
        from policyqa.index.store import IndexStore
        from policyqa.qa.service import KnowledgeBase
        from policyqa.settings import Settings
        emb = SlowEmbedder(KeywordEmbedder(["补贴", "奖励", "测试市"]), delay=2.0, marker={str(marker)!r})
        kb = KnowledgeBase(IndexStore.load({str(kb.store.path)!r}, emb, tokenizer=jieba_tokenizer()),
                           Settings(home={str(tmp_path)!r}), retrieval=RetrievalConfig(mode="bm25"))
        kb.add([{str(_policy(tmp_path, "other.txt", "55"))!r}])
    """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():  # the other process holds the lock and is embedding
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        kb.add([_policy(tmp_path, "mine.txt", "66")])
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    assert {"other.txt", "mine.txt"} <= set(IndexStore.load(kb.store.path).docs)
    assert {"other.txt", "mine.txt"} <= set(kb.store.docs)


def test_questions_are_answered_while_a_document_is_embedded(tmp_path):
    import threading
    import time

    from fakes import SlowEmbedder

    docs = list(load_corpus().documents)
    emb = SlowEmbedder(KeywordEmbedder(["补贴", "奖励", "测试市"]), delay=0.0)
    store = IndexStore.build(docs, chunk_documents(docs), emb.inner, jieba_tokenizer(), tmp_path / "index",
                             chunker_settings=ChunkerConfig().to_dict(), progress=False)
    kb = KnowledgeBase(IndexStore.load(store.path, emb, tokenizer=jieba_tokenizer()), Settings(home=tmp_path),
                       retrieval=RetrievalConfig(mode="hybrid"))
    kb.answer("工业机器人补贴")  # warm
    emb.delay = 2.0
    adding = threading.Thread(target=kb.add, args=([_policy(tmp_path)],))
    t0 = time.monotonic()
    adding.start()
    latencies = []
    while adding.is_alive():
        t = time.monotonic()
        kb.answer("评上国家级专精特新小巨人奖励多少")
        latencies.append(time.monotonic() - t)
        time.sleep(0.05)
    adding.join()
    assert time.monotonic() - t0 >= 2.0 and len(latencies) >= 10
    assert max(latencies) < 1.0
    # the added document is searchable at once (which clause is quoted is the selector's business)
    assert "测试市机器人补贴.txt" in {h.chunk.doc_id for h in kb.answer("测试市买协作机器人补贴几成？").hits[:3]}
