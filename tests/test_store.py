"""IndexStore: build, persistence, manifest checks, atomic saves, add/remove, errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fakes import CHUNKER_SETTINGS, VOCABULARY, CharTokenizer, KeywordEmbedder, corpus, jieba_tokenizer, make_chunks
from policyqa.corpus.types import DocMeta, Document
from policyqa.index import store as store_mod
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexCorrupt, IndexMismatch, IndexNotFound, IndexStore, corpus_fingerprint
from policyqa.index.types import Filters

TESTS_DIR = Path(__file__).resolve().parent
QUERIES = ["专精特新小巨人奖励", "上云奖励", "设备投资补助", "首台套保险", "绿色工厂"]


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def build(path, docs=None, chunks=None, embedder=None, tokenizer=None, **kw):
    if docs is None:
        docs, chunks = corpus()
    return IndexStore.build(
        docs,
        chunks,
        embedder or KeywordEmbedder(VOCABULARY),
        tokenizer or jieba_tokenizer(),
        path,
        chunker_settings=CHUNKER_SETTINGS,
        retrieval=kw.pop("retrieval", RetrievalConfig()),
        progress=False,
        **kw,
    )


def load(path, **kw):
    kw.setdefault("embedder", KeywordEmbedder(VOCABULARY))
    kw.setdefault("tokenizer", jieba_tokenizer())
    return IndexStore.load(path, **kw)


@pytest.fixture
def built(tmp_path):
    return build(tmp_path / "index")


# --- build and round trip ---------------------------------------------------------


def test_build_writes_the_documented_layout(built):
    path = built.path
    assert sorted(p.name for p in path.iterdir()) == [
        "bm25", "chunks.jsonl", "docs.jsonl", "faiss.index", "ids.txt", "items.jsonl", "manifest.json", "sentences",
        "vectors.npy",
    ]
    assert (path / "ids.txt").read_text(encoding="utf-8").splitlines() == [
        "d1#1", "d1#2", "d2#1", "d2#2", "d3#1", "d4#1", "d4#2",
    ]
    assert np.load(path / "vectors.npy").shape == (7, len(VOCABULARY) + 1)
    assert [json.loads(x)["chunk_id"] for x in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()][:2] == [
        "d1#1", "d1#2",
    ]
    assert not [p for p in path.parent.iterdir() if p != path]  # no temp/old siblings left


def test_manifest_contents(built):
    m = json.loads((built.path / "manifest.json").read_text(encoding="utf-8"))
    assert m["format"] == 1 and m["package_version"]
    assert m["embedding"] == {"model": "fake-keyword", "backend": "fake", "dim": len(VOCABULARY) + 1}
    assert m["chunker"] == CHUNKER_SETTINGS
    assert m["retrieval"] == RetrievalConfig().to_dict()
    assert m["documents"] == ["d1", "d2", "d3", "d4"] and m["n_chunks"] == 7
    docs, _ = corpus()
    import hashlib

    pairs = {d.doc_id: hashlib.sha256(d.text.encode()).hexdigest() for d in docs}
    assert m["corpus_fingerprint"] == corpus_fingerprint(pairs)
    assert m["built_at"].endswith("+00:00") and m["build_seconds"] >= 0
    assert built.manifest == m


def test_round_trip_gives_same_results(built):
    loaded = load(built.path)
    assert dict(loaded.docs) == dict(built.docs) and dict(loaded.chunks) == dict(built.chunks)
    before = built.retriever().batch_search(QUERIES, 5)
    after = loaded.retriever().batch_search(QUERIES, 5)
    assert [ids(h) for h in after] == [ids(h) for h in before]
    assert [h.score for hs in after for h in hs] == pytest.approx([h.score for hs in before for h in hs])
    assert ids(loaded.retriever().search("上云奖励", 1)) == ["d3#1"]
    assert ids(loaded.retriever().search("奖励", 5, Filters(region="徐州市"))) == ["d1#1", "d1#2"]


def test_retrieval_config_from_manifest_and_override(tmp_path):
    s = build(tmp_path / "ix", retrieval=RetrievalConfig(fusion="minmax"))
    assert load(s.path).retriever().config == RetrievalConfig(fusion="minmax")
    assert load(s.path).retriever(RetrievalConfig(mode="bm25")).config.mode == "bm25"


def test_bm25_only_without_embedder(built):
    s = IndexStore.load(built.path, tokenizer=jieba_tokenizer())
    assert ids(s.retriever(RetrievalConfig(mode="bm25")).search("首台套", 3)) == ["d4#2"]
    with pytest.raises(ValueError, match="needs an embedder"):
        s.retriever()


def test_lazy_embedder_factory_created_on_first_dense_search(built):
    made = []

    def factory():
        made.append(1)
        return KeywordEmbedder(VOCABULARY)

    s = IndexStore.load(built.path, factory, tokenizer=jieba_tokenizer(), model="fake-keyword")
    r = s.retriever()
    assert made == []
    assert ids(r.search("上云奖励", 1)) == ["d3#1"]
    assert made == [1]


def test_lazy_factory_with_other_model_fails_on_first_use(built):
    s = IndexStore.load(built.path, lambda: KeywordEmbedder(VOCABULARY, name="other"), tokenizer=jieba_tokenizer())
    with pytest.raises(IndexMismatch, match="'other'"):
        s.retriever().search("奖励", 1)


def test_changed_tokenizer_reindexes_keywords_in_memory(tmp_path):
    s = build(tmp_path / "ix", tokenizer=CharTokenizer())
    loaded = load(s.path)  # jieba tokenizer now
    assert loaded.manifest["tokenizer"] == jieba_tokenizer().settings()
    assert ids(loaded.retriever(RetrievalConfig(mode="bm25")).search("首台套", 1)) == ["d4#2"]


# --- manifest mismatch -------------------------------------------------------------


def test_mismatch_model_name(built):
    with pytest.raises(IndexMismatch) as e:
        load(built.path, embedder=KeywordEmbedder(VOCABULARY, name="intfloat/multilingual-e5-small"))
    msg = str(e.value)
    assert "'fake-keyword' (backend fake)" in msg and "'intfloat/multilingual-e5-small'" in msg
    assert f"rebuild with: policyqa build --index {built.path}" in msg and "\n" not in msg


def test_mismatch_model_or_backend_by_name_without_embedder(built):
    with pytest.raises(IndexMismatch, match="'e5'"):
        IndexStore.load(built.path, tokenizer=jieba_tokenizer(), model="e5")
    with pytest.raises(IndexMismatch, match="backend onnx"):
        IndexStore.load(built.path, tokenizer=jieba_tokenizer(), backend="onnx")


def test_mismatch_dimension(built):
    with pytest.raises(IndexMismatch, match="12-d vectors but embedder 'fake-keyword' makes 3-d"):
        load(built.path, embedder=KeywordEmbedder(["a", "b"]))


def test_mismatch_chunker_settings(built):
    other = dict(CHUNKER_SETTINGS, max_chars=500)
    with pytest.raises(IndexMismatch) as e:
        load(built.path, chunker_settings=other)
    assert "max_chars=448 (index) vs 500 (configured)" in str(e.value)
    assert "policyqa build --index" in str(e.value)
    assert load(built.path, chunker_settings=dict(CHUNKER_SETTINGS)).manifest["chunker"] == CHUNKER_SETTINGS


# --- missing and corrupt -------------------------------------------------------------


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFound, match="no index at .*nope; build one with: policyqa build --index"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFound):
        load(tmp_path / "empty")


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: (p / "manifest.json").write_text("{not json", encoding="utf-8"), "unreadable manifest.json"),
        (lambda p: (p / "manifest.json").unlink(), "incomplete \\(no manifest.json\\)"),
        (lambda p: (p / "vectors.npy").unlink(), "missing vectors.npy"),
        (lambda p: (p / "vectors.npy").write_bytes(b"garbage"), "damaged"),
        (lambda p: (p / "chunks.jsonl").write_text('{"chunk_id": "d1#1"\n', encoding="utf-8"), "damaged"),
        (lambda p: (p / "ids.txt").write_text("d1#1\n", encoding="utf-8"), "damaged"),
        (
            lambda p: (p / "chunks.jsonl").write_text(
                "\n".join((p / "chunks.jsonl").read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8"
            ),
            "inconsistent",
        ),
        (lambda p: (p / "bm25" / "policyqa_bm25.json").unlink(), "damaged"),
    ],
)
def test_corrupt_index_is_a_clear_error(built, damage, match):
    damage(built.path)
    with pytest.raises(IndexCorrupt, match=match) as e:
        load(built.path)
    assert "rebuild with: policyqa build --index" in str(e.value) and "\n" not in str(e.value)


def test_unknown_format_is_a_mismatch(built):
    m = json.loads((built.path / "manifest.json").read_text(encoding="utf-8"))
    m["format"] = 99
    (built.path / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="format 99"):
        load(built.path)


# --- add / remove ------------------------------------------------------------------------


def test_add_new_document_embeds_only_its_chunks(built):
    emb = KeywordEmbedder(VOCABULARY)
    s = load(built.path, embedder=emb)
    old_ids = list(s.chunks)
    d5 = Document(DocMeta(doc_id="d5", region="江苏省宿迁市", doc_type="notice"), "宿迁市对首台套产品给予奖励。\n支持企业上云。")
    assert s.add([d5], make_chunks(d5, ["宿迁市对首台套产品给予奖励。", "支持企业上云。"])) == 2
    assert emb.document_calls[0] == ["宿迁市对首台套产品给予奖励。", "支持企业上云。"]
    assert sorted(emb.embedded[2:]) == sorted(["宿迁市对首台套产品给予奖励。", "支持企业上云。"])  # their sentences
    assert list(s.chunks) == old_ids + ["d5#1", "d5#2"]
    assert ids(s.retriever().search("首台套", 5, Filters(region="宿迁市"))) == ["d5#1", "d5#2"]
    assert ids(s.retriever(RetrievalConfig(mode="bm25")).search("首台套", 5)) == ["d4#2", "d5#1"]  # d4#2 has it twice
    s.save()
    again = load(s.path)
    assert again.manifest["documents"] == ["d1", "d2", "d3", "d4", "d5"] and again.manifest["n_chunks"] == 9
    assert ids(again.retriever().search("首台套", 1, Filters(doc_ids=("d5",)))) == ["d5#1"]
    assert again.manifest["corpus_fingerprint"] != built.manifest["corpus_fingerprint"]


def test_replacing_a_document_reembeds_only_changed_chunks(built):
    emb = KeywordEmbedder(VOCABULARY)
    s = load(built.path, embedder=emb)
    docs, _ = corpus()
    d4 = docs[3]
    new_text = d4.text.replace("新增规上企业100家", "新增规上企业200家")
    new_d4 = Document(d4.meta, new_text)
    chunks = make_chunks(new_d4, new_text.split("\n"))
    assert s.add([new_d4], chunks) == 1  # d4#2 unchanged, vector reused
    assert emb.document_calls[0] == [new_text.split("\n")[0]]
    assert set(emb.embedded[1:]) <= set(new_text.split("\n")[0].replace("。", "。\n").split("\n"))  # only its sentences
    assert s.chunks["d4#1"].text.endswith("200家。")
    assert [c for c in s.chunks if c.startswith("d4")] == ["d4#1", "d4#2"]
    assert ids(s.retriever(RetrievalConfig(mode="bm25")).search("200", 5)) == ["d4#1"]
    # replacing with fewer chunks drops the rest
    assert s.add([Document(d4.meta, "只剩一段。")], make_chunks(Document(d4.meta, "只剩一段。"), ["只剩一段。"])) == 1
    assert [c for c in s.chunks if c.startswith("d4")] == ["d4#1"]
    assert "d4#2" not in s.dense and s.manifest["n_chunks"] == 6


def test_remove_document(built):
    s = load(built.path)
    others = {cid: c for cid, c in s.chunks.items() if c.doc_id != "d3"}
    assert s.remove("d3") == 1
    assert "d3" not in s.docs and "d3#1" not in s.chunks and "d3#1" not in s.dense.ids
    assert dict(s.chunks) == others
    assert "d3#1" not in ids(s.retriever().search("上云奖励", 10))
    s.save()
    again = load(s.path)
    assert again.manifest["documents"] == ["d1", "d2", "d4"] and again.manifest["n_chunks"] == 6
    assert "d3#1" not in ids(again.retriever().search("上云奖励", 10))
    with pytest.raises(KeyError, match="not in the index"):
        s.remove("d3")


def test_bad_build_and_add_input(tmp_path, built):
    docs, chunks = corpus()
    with pytest.raises(ValueError, match="duplicate chunk id"):
        build(tmp_path / "x", docs, chunks + chunks[:1])
    with pytest.raises(ValueError, match="which was not given"):
        build(tmp_path / "x", docs[:1], chunks)
    s = load(built.path)
    d9 = Document(DocMeta(doc_id="d9"), "上云")
    bad = make_chunks(d9, ["上云"])[0].__class__(chunk_id="d1#1", doc_id="d9", section="", text="上云", start=0, end=2)
    with pytest.raises(ValueError, match="already belongs to document 'd1'"):
        s.add([d9], [bad])


# --- atomic saves -------------------------------------------------------------------------


def test_failure_in_the_middle_of_save_keeps_the_old_index(built, monkeypatch):
    s = load(built.path)
    s.remove("d1")
    calls = []
    real = store_mod._write_jsonl

    def failing(path, rows):
        calls.append(path.name)
        if len(calls) == 2:
            raise OSError("disk full")
        real(path, rows)

    monkeypatch.setattr(store_mod, "_write_jsonl", failing)
    with pytest.raises(OSError, match="disk full"):
        s.save()
    assert calls == ["chunks.jsonl", "docs.jsonl"]
    assert load(built.path).manifest["documents"] == ["d1", "d2", "d3", "d4"]
    assert not [p for p in built.path.parent.iterdir() if p != built.path]


def test_failure_between_the_renames_keeps_the_old_index(built, monkeypatch):
    s = load(built.path)
    s.remove("d1")
    real_rename = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise OSError("rename failed")
        real_rename(src, dst)

    monkeypatch.setattr(store_mod.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        s.save()
    monkeypatch.setattr(store_mod.os, "rename", real_rename)
    assert load(built.path).manifest["documents"] == ["d1", "d2", "d3", "d4"]


def test_load_recovers_an_index_left_as_old_sibling(built):
    # What a kill between "rename DIR -> DIR.old-<pid>" and "rename tmp -> DIR" leaves behind.
    old = built.path.with_name(built.path.name + ".old-999999")
    tmp = built.path.with_name(built.path.name + ".tmp-999999")
    os.rename(built.path, old)
    tmp.mkdir()
    (tmp / "vectors.npy").write_bytes(b"partial")
    s = load(built.path)
    assert s.manifest["documents"] == ["d1", "d2", "d3", "d4"] and not old.exists()
    s.save()  # stale temp dirs of dead processes are cleaned up
    assert not tmp.exists()


CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from fakes import VOCABULARY, CHUNKER_SETTINGS, CharTokenizer, KeywordEmbedder, SlowEmbedder, corpus
from policyqa.index import store as store_mod
from policyqa.index.store import IndexStore

phase, path, marker = sys.argv[1], sys.argv[2], sys.argv[3]
emb = KeywordEmbedder(VOCABULARY)
if phase == "embed":
    emb = SlowEmbedder(emb, delay=60, marker=marker)
else:
    real = store_mod._write_jsonl
    def slow_write(p, rows):
        real(p, rows)
        open(marker, "w").write("saving")
        time.sleep(60)
    store_mod._write_jsonl = slow_write
docs, chunks = corpus()
IndexStore.build(docs, chunks, emb, CharTokenizer(), path, CHUNKER_SETTINGS, progress=False)
"""


@pytest.mark.parametrize("phase", ["embed", "save"])
def test_build_killed_midway_leaves_previous_index_loadable(tmp_path, phase):
    docs, chunks = corpus()
    path = tmp_path / "index"
    build(path, docs[:2], [c for c in chunks if c.doc_id in ("d1", "d2")], tokenizer=CharTokenizer())
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(TESTS_DIR)), encoding="utf-8")
    marker = tmp_path / "marker"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, str(script), phase, str(path), str(marker)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "child build never reached the kill point"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    if phase == "save":
        assert path.with_name(f"index.tmp-{proc.pid}").is_dir()  # killed while writing its temp dir
    s = load(path, tokenizer=CharTokenizer())
    assert s.manifest["documents"] == ["d1", "d2"] and s.manifest["n_chunks"] == 4
    assert ids(s.retriever().search("专精特新小巨人", 1)) == ["d1#1"]


@pytest.mark.slow
def test_real_model_on_builtin_corpus(tmp_path):
    """Build with the bundled e5 model over the built-in documents (about a minute on 2 cores)."""
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.index.embeddings import load_embedder

    docs = list(load_corpus().documents)
    chunks = chunk_documents(docs)
    emb = load_embedder("default")
    s = IndexStore.build(docs, chunks, emb, jieba_tokenizer(), tmp_path / "ix", {"test": 1}, progress=False)
    loaded = IndexStore.load(s.path, emb, tokenizer=jieba_tokenizer(), chunker_settings={"test": 1})
    hits = loaded.retriever().search("評上國家級專精特新小巨人，宿遷給多少錢？", 5)
    assert hits[0].chunk.doc_id.startswith("000_")
    assert any(h.chunk.doc_id.startswith("000_") and "100万元" in h.chunk.text for h in hits)
    hits = loaded.retriever().search("智能工厂奖励", 5, Filters(region="亭湖区"))
    assert hits and {h.chunk.doc_id[:3] for h in hits} == {"001"}
