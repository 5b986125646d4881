"""The ONNX Runtime embedder, its export cache, the embedding cache, backend
compatibility and the no-torch query path — on a tiny graph made without torch
(fast, exact).  Real-model agreement and the real export are in
test_onnx_real.py (slow)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import onnx_fixtures as fx
from fakes import CHUNKER_SETTINGS, VOCABULARY, KeywordEmbedder, corpus, jieba_tokenizer
from policyqa.index import embeddings, onnx_embed
from policyqa.index.embed_cache import CachedEmbedder, EmbeddingCache, text_key
from policyqa.index.embeddings import (
    BACKENDS,
    DEFAULT_BACKEND,
    BackgroundLoad,
    EmbeddingModelError,
    compatible,
    encode_groups,
    load_embedder,
    vector_space,
)
from policyqa.index.onnx_embed import (
    OnnxEmbedder,
    OnnxExportError,
    ensure_onnx_export,
    is_export_complete,
    length_batches,
    pool,
    read_st_layout,
)
from policyqa.index.store import IndexMismatch, IndexStore
from policyqa.index.types import Embedder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return fx.write_export(tmp_path_factory.mktemp("export") / "tiny.onnx")


def tiny(export_dir, backend="onnx", **kw):
    qv, dv = embeddings.ONNX_VARIANTS[backend]
    return OnnxEmbedder(export_dir, "tiny", backend, "query: ", "passage: ", qv, dv, **kw)


# --- pure helpers ------------------------------------------------------------------


def test_length_batches_group_similar_lengths_within_limits():
    lengths = [5, 50, 7, 48, 6, 49, 100]
    assert length_batches(lengths, batch_size=2, max_tokens=1000) == [[6, 1], [5, 3], [2, 4], [0]]
    # the token budget counts padded tokens: 100 alone, then 50+49 (2x50=100 <= 120), ...
    assert length_batches(lengths, batch_size=8, max_tokens=120) == [[6], [1, 5], [3, 2], [4, 0]]
    assert length_batches([], 4, 100) == []
    assert sorted(i for b in length_batches(lengths, 3, 64) for i in b) == list(range(len(lengths)))


def test_pool_mean_ignores_padding_cls_takes_the_first_token():
    hidden = np.array([[[1, 0], [3, 0], [100, 100]], [[0, 2], [0, 0], [0, 0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(pool(hidden, mask, "mean", False), [[2, 0], [0, 2]])
    np.testing.assert_allclose(pool(hidden, mask, "mean", True), [[1, 0], [0, 1]])
    np.testing.assert_allclose(pool(hidden, mask, "cls", False), [[1, 0], [0, 2]])
    assert pool(hidden, mask, "mean", True).dtype == np.float32


# --- the embedder over the tiny export ---------------------------------------------------


def test_onnx_embedder_gives_the_hand_computed_vectors(export_dir):
    emb = tiny(export_dir)
    assert isinstance(emb, Embedder) and (emb.name, emb.backend, emb.dim) == ("tiny", "onnx", fx.DIM)
    docs = ["补贴 机器人", "  企业 奖励 专精特新 政策  ", "a", "未知词 补贴", "a b c a b c a b c a b"]
    got = emb.encode_documents(docs)
    want = np.stack([fx.expected(t, "passage: ") for t in docs])
    assert got.shape == (len(docs), fx.DIM) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-6)  # order kept, padding masked, truncated at 8 tokens
    q = emb.encode_queries(["补贴 机器人"])
    np.testing.assert_allclose(q[0], fx.expected("补贴 机器人", "query: "), atol=1e-6)
    assert not np.allclose(q[0], got[0])  # prompts differ


def test_batch_size_does_not_change_fp32_vectors(export_dir):
    texts = [" ".join(["补贴"] * (i % 7 + 1) + ["企业"] * (i % 3)) for i in range(40)]
    one = tiny(export_dir, batch_size=1).encode_documents(texts)
    many = tiny(export_dir, batch_size=16, max_batch_tokens=64).encode_documents(texts)
    np.testing.assert_allclose(one, many, atol=1e-6)


def test_int8_documents_run_one_at_a_time_so_batch_mates_do_not_matter(export_dir, monkeypatch):
    emb = tiny(export_dir, backend="onnx-int8", batch_size=16)
    sizes = []
    real = emb._run
    monkeypatch.setattr(emb, "_run", lambda variant, ids: sizes.append(len(ids)) or real(variant, ids))
    emb.encode_documents(["补贴", "企业 奖励", "a b c"])
    assert sizes == [1, 1, 1]
    sizes.clear()
    tiny_fp32 = tiny(export_dir, backend="onnx", batch_size=16)
    monkeypatch.setattr(tiny_fp32, "_run", lambda variant, ids: sizes.append(len(ids)) or real(variant, ids))
    tiny_fp32.encode_documents(["补贴", "企业 奖励", "a b c"])
    assert sizes == [3]


def test_mixed_backend_uses_int8_for_queries_fp32_for_documents(tmp_path):
    d = fx.write_export(tmp_path / "x.onnx", int8_scale=-1.0)  # "int8" graph gives the opposite vector
    emb = tiny(d, backend="onnx-mixed")
    np.testing.assert_allclose(emb.encode_documents(["补贴"])[0], fx.expected("补贴", "passage: "), atol=1e-6)
    np.testing.assert_allclose(emb.encode_queries(["补贴"])[0], -fx.expected("补贴", "query: "), atol=1e-6)
    assert set(emb._sessions) == {"fp32", "int8"}


def test_cls_pooling(tmp_path):
    d = fx.write_export(tmp_path / "cls.onnx", pooling="cls")
    np.testing.assert_allclose(tiny(d).encode_documents(["企业 奖励"])[0], fx.expected("企业 奖励", "passage: ", "cls"), atol=1e-6)


def test_bad_inputs_and_empty(export_dir):
    emb = tiny(export_dir)
    assert emb.encode_documents([]).shape == (0, fx.DIM)
    with pytest.raises(TypeError, match="not a single str"):
        emb.encode_queries("补贴")
    with pytest.raises(TypeError, match="text 1 is NoneType"):
        emb.encode_documents(["a", None])
    assert np.isfinite(emb.encode_documents([""])).all()  # prompt only
    with pytest.raises(ValueError, match="unknown ONNX variant"):
        OnnxEmbedder(export_dir, "t", "x", query_variant="fp16")


def test_progress_bar_counts_chunks_per_second(export_dir, capsys):
    tiny(export_dir).encode_documents(["补贴"] * 5, progress=True)
    err = capsys.readouterr().err
    assert "embedding" in err and "5/5" in err and "chunks/s" in err


# --- the export cache ---------------------------------------------------------------


@pytest.fixture
def fake_export(monkeypatch):
    """export_onnx replaced by one writing the tiny export; counts calls."""
    calls = []

    def export(model_dir, out, log=None):
        calls.append(Path(model_dir))
        fx.write_export(out)
        (Path(out) / onnx_embed.MARKER).unlink()  # ensure_onnx_export writes the marker
        return Path(out)

    monkeypatch.setattr(onnx_embed, "export_onnx", export)
    return calls


def test_export_is_cached_and_reused(tmp_path, fake_export):
    out = tmp_path / "models" / "m.onnx"
    assert ensure_onnx_export(tmp_path / "src", out, source="v1") == out
    assert ensure_onnx_export(tmp_path / "src", out, source="v1") == out
    assert len(fake_export) == 1 and is_export_complete(out, "v1")
    marker = json.loads((out / onnx_embed.MARKER).read_text())
    assert set(marker["files"]) == {"model.onnx", "model-int8.onnx", "tokenizer.json", "embedder.json"}
    assert all(len(f["sha256"]) == 64 for f in marker["files"].values())
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or ".stale-" in p.name]


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "marker", "source"])
def test_missing_or_corrupt_export_is_rebuilt(tmp_path, fake_export, damage):
    out = ensure_onnx_export(tmp_path / "src", tmp_path / "m.onnx", source="v1")
    victim = out / onnx_embed.INT8_FILE
    size = victim.stat().st_size
    if damage == "flip":  # same size, other bytes: caught by the checksum (mtime changed)
        data = bytearray(victim.read_bytes())
        data[size // 2] ^= 0xFF
        time.sleep(0.01)
        victim.write_bytes(bytes(data))
    elif damage == "truncate":
        with open(victim, "r+b") as f:
            f.truncate(size // 2)
    elif damage == "delete":
        victim.unlink()
    elif damage == "marker":
        (out / onnx_embed.MARKER).unlink()
    source = "v2" if damage == "source" else "v1"
    assert not is_export_complete(out, source)
    assert ensure_onnx_export(tmp_path / "src", out, source=source) == out
    assert len(fake_export) == 2 and is_export_complete(out, source, verify="full")
    assert victim.stat().st_size == size


def test_full_verification_catches_corruption_that_kept_the_mtime(tmp_path, fake_export):
    out = ensure_onnx_export(tmp_path / "src", tmp_path / "m.onnx", source="v1")
    victim = out / onnx_embed.FP32_FILE
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert is_export_complete(out, "v1")  # the cheap check trusts an untouched mtime
    assert not is_export_complete(out, "v1", verify="full")


def test_failed_export_leaves_nothing_behind(tmp_path, monkeypatch):
    def boom(model_dir, out, log=None):
        (Path(out) / "model.onnx").write_bytes(b"half")
        raise OnnxExportError("exporter failed")

    monkeypatch.setattr(onnx_embed, "export_onnx", boom)
    with pytest.raises(OnnxExportError):
        ensure_onnx_export(tmp_path / "src", tmp_path / "m.onnx", source="v1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.onnx.lock"]


# --- which models export --------------------------------------------------------------


def test_layouts_the_exporter_reproduces(tmp_path):
    lay = read_st_layout(fx.write_st_dir(tmp_path / "mean"))
    assert (lay.pooling, lay.normalize, lay.max_seq_length, dict(lay.prompts)) == ("mean", True, 8, {"query": "q: "})
    assert read_st_layout(fx.write_st_dir(tmp_path / "cls", pooling="cls", modules=("Transformer", "Pooling"))).normalize is False


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"modules": ("Transformer", "Pooling", "Dense", "Normalize")}, r"module\(s\) Dense after the transformer are not supported"),
        ({"pooling": "max"}, r"pooling \['pooling_mode_max_tokens'\] is not supported"),
        ({"modules": ("Pooling",)}, "are not Transformer -> Pooling"),
    ],
)
def test_layouts_the_exporter_refuses(tmp_path, kw, message):
    with pytest.raises(OnnxExportError, match=message):
        read_st_layout(fx.write_st_dir(tmp_path / "m", **kw))
    with pytest.raises(OnnxExportError, match="no modules.json"):
        read_st_layout(tmp_path)


def test_unexportable_model_falls_back_to_torch_with_one_warning(tmp_path, monkeypatch, caplog):
    class FakeST:
        prompts = {}

        def get_embedding_dimension(self):
            return 3

    model = fx.write_st_dir(tmp_path / "dense-model", modules=("Transformer", "Pooling", "Dense", "Normalize"))
    monkeypatch.setattr(embeddings, "_load", lambda *a, **k: FakeST())
    with caplog.at_level(logging.WARNING, logger="policyqa.embeddings"):
        emb = load_embedder(str(model), backend="onnx-int8")
    assert emb.backend == "torch"
    [rec] = caplog.records
    msg = rec.getMessage()
    assert "cannot run on onnxruntime (module(s) Dense after the transformer are not supported" in msg
    assert "using backend 'torch' instead (setting `embedding_backend` / --backend)" in msg and "\n" not in msg


def test_local_model_with_an_export_loads_on_onnxruntime_without_torch(tmp_path):
    """A sentence-transformers directory whose export is cached loads in a fresh
    process, embeds, and never imports torch."""
    model = fx.write_st_dir(tmp_path / "my-model")
    cache = tmp_path / "cache"
    env = dict(os.environ, POLICYQA_CACHE=str(cache), HF_HUB_OFFLINE="1")
    code = (
        "import sys, json\n"
        "from policyqa.index.onnx_embed import default_export_dir, source_fingerprint\n"
        "import onnx_fixtures as fx\n"
        f"m = {str(model)!r}\n"
        "fx.write_export(default_export_dir(m), source=source_fingerprint(m))\n"
        "from policyqa.index.embeddings import load_embedder\n"
        "e = load_embedder(m, backend='onnx')\n"
        "v = e.encode_documents(['补贴 机器人'])\n"
        "print(json.dumps([type(e).__name__, e.backend, e.model_id.startswith('my-model') or e.model_id, 'torch' in sys.modules,"
        " float(abs(v[0] - fx.expected('补贴 机器人', 'passage: ')).max())]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=str(ROOT / "tests")),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    name, backend, _, torch_loaded, err = json.loads(out.stdout.strip().splitlines()[-1])
    assert (name, backend, torch_loaded) == ("OnnxEmbedder", "onnx", False) and err < 1e-6


# --- backends and index compatibility ---------------------------------------------------


def test_backend_spaces_and_default():
    assert BACKENDS[0] == "onnx-int8" and DEFAULT_BACKEND in BACKENDS
    assert {b: vector_space(b) for b in BACKENDS} == {"onnx-int8": "int8", "onnx": "fp32", "onnx-mixed": "fp32", "torch": "fp32"}
    assert compatible("torch", "onnx") and compatible("onnx", "onnx-mixed") and compatible("onnx-int8", "onnx-int8")
    assert not compatible("torch", "onnx-int8") and not compatible("onnx-int8", "onnx-mixed") and not compatible("fake", "torch")
    from policyqa.settings import Settings

    assert Settings().embedding_backend == DEFAULT_BACKEND
    with pytest.raises(EmbeddingModelError, match="choose one of onnx-int8, onnx, onnx-mixed, torch"):
        load_embedder("default", backend="onnx-fp16")


def test_index_built_with_torch_loads_with_fp32_onnx_but_not_int8(tmp_path):
    docs, chunks = corpus()
    built = IndexStore.build(docs, chunks, KeywordEmbedder(VOCABULARY, backend="torch"), jieba_tokenizer(), tmp_path / "ix",
                             chunker_settings=CHUNKER_SETTINGS, progress=False)
    for backend in ("torch", "onnx", "onnx-mixed"):
        s = IndexStore.load(built.path, KeywordEmbedder(VOCABULARY, backend=backend), tokenizer=jieba_tokenizer())
        assert s.manifest["embedding"]["backend"] == "torch"
        IndexStore.load(built.path, tokenizer=jieba_tokenizer(), backend=backend)
    with pytest.raises(IndexMismatch) as e:
        IndexStore.load(built.path, KeywordEmbedder(VOCABULARY, backend="onnx-int8"), tokenizer=jieba_tokenizer())
    msg = str(e.value)
    assert "built with embedding model 'fake-keyword' (backend torch)" in msg
    assert "its fp32 document vectors do not match onnx-int8's int8 ones" in msg
    assert msg.endswith(f"rebuild with: policyqa build --index {built.path}") and "\n" not in msg


# --- background loading -------------------------------------------------------------------


def test_background_load_returns_warms_and_reraises():
    warmed = []

    class E:
        def warm(self):
            warmed.append(threading.current_thread().name)

    load = BackgroundLoad(E)
    emb = load()
    assert isinstance(emb, E) and warmed == ["load-embedder"] and load() is emb

    def fail():
        raise EmbeddingModelError("cannot load embedding model 'x'")

    bad = BackgroundLoad(fail)
    with pytest.raises(EmbeddingModelError, match="cannot load embedding model 'x'"):
        bad()


def test_background_load_lets_the_caller_go_once_the_loader_is_native(export_dir):
    started = time.monotonic()
    gate = threading.Event()

    def load():
        emb = tiny(export_dir)  # signals "native" before reading the tokenizer
        gate.wait(5)
        return emb

    bg = BackgroundLoad(load, head_start=5)
    assert time.monotonic() - started < 4  # did not wait for the whole load
    gate.set()
    assert bg().dim == fx.DIM


# --- the embedding cache --------------------------------------------------------------------


def cached(tmp_path, inner=None):
    inner = inner or KeywordEmbedder(["补贴", "奖励", "机器人"])
    return CachedEmbedder(inner, EmbeddingCache(tmp_path / "cache.sqlite3")), inner


def test_cache_embeds_only_new_text_and_returns_the_same_vectors(tmp_path):
    emb, inner = cached(tmp_path)
    first = emb.encode_documents(["补贴 奖励", "机器人", "补贴 奖励"])
    assert inner.embedded == ["补贴 奖励", "机器人"] and (emb.last_hits, emb.last_embedded) == (0, 2)
    again = emb.encode_documents(["机器人", " 补贴 奖励 ", "奖励 新"])
    assert inner.embedded[2:] == ["奖励 新"] and (emb.last_hits, emb.last_embedded) == (2, 1)
    np.testing.assert_array_equal(again[:2], first[[1, 0]])
    # another process (a new cache object on the same file) sees the vectors
    emb2, inner2 = cached(tmp_path)
    emb2.encode_documents(["补贴 奖励", "机器人", "奖励 新"])
    assert inner2.embedded == []
    # queries are never cached; the wrapper is an Embedder with the inner's identity
    emb2.encode_queries(["补贴"])
    assert inner2.query_calls == [["补贴"]] and isinstance(emb2, Embedder) and emb2.name == inner2.name


def test_cache_keys_separate_models_spaces_and_prompts(tmp_path):
    a, inner_a = cached(tmp_path, KeywordEmbedder(["补贴"], backend="onnx-int8"))
    b, inner_b = cached(tmp_path, KeywordEmbedder(["补贴"], backend="onnx"))
    c, inner_c = cached(tmp_path, KeywordEmbedder(["补贴"], backend="torch"))
    a.encode_documents(["补贴"])
    b.encode_documents(["补贴"])
    c.encode_documents(["补贴"])
    assert inner_a.embedded == inner_b.embedded == ["补贴"] and inner_c.embedded == []  # torch and onnx share fp32
    assert a.space == "fake-keyword|int8" and b.space == c.space == "fake-keyword|fp32"
    assert text_key("passage: ", "补贴") != text_key("", "补贴") and text_key("", " 补贴 ") == text_key("", "补贴")


def test_cache_keeps_slices_embedded_before_a_failure(tmp_path, monkeypatch):
    import policyqa.index.embed_cache as ec

    monkeypatch.setattr(ec, "SLICE", 2)

    class Flaky(KeywordEmbedder):
        def encode_documents(self, texts, progress=False):
            if len(self.document_calls) == 1:
                raise RuntimeError("killed")
            return super().encode_documents(texts, progress)

    emb, inner = cached(tmp_path, Flaky(["补贴"]))
    with pytest.raises(RuntimeError, match="killed"):
        emb.encode_documents(["aaaa", "bbb", "cc", "d"])
    emb2, inner2 = cached(tmp_path, KeywordEmbedder(["补贴"]))
    emb2.encode_documents(["aaaa", "bbb", "cc", "d"])
    assert inner2.embedded == ["cc", "d"]  # the longest two were committed before the failure


def test_damaged_cache_file_is_moved_aside_and_replaced(tmp_path, caplog):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    emb = CachedEmbedder(KeywordEmbedder(["补贴"]), EmbeddingCache(path))
    with caplog.at_level(logging.WARNING, logger="policyqa.embeddings"):
        v = emb.encode_documents(["补贴"])
    assert v.shape == (1, 2) and emb.last_embedded == 1
    assert any("is unreadable" in r.getMessage() and "starting a new one" in r.getMessage() for r in caplog.records)
    assert [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 1


def test_store_rebuild_through_the_cache_embeds_only_changed_chunks(tmp_path):
    docs, chunks = corpus()
    emb, inner = cached(tmp_path, KeywordEmbedder(VOCABULARY))
    IndexStore.build(docs, chunks, emb, jieba_tokenizer(), tmp_path / "a", chunker_settings=CHUNKER_SETTINGS, progress=False)
    n = len(inner.embedded)
    assert n == len({c.indexed_text() for c in chunks})
    IndexStore.build(docs, chunks, emb, jieba_tokenizer(), tmp_path / "b", chunker_settings=CHUNKER_SETTINGS, progress=False)
    assert len(inner.embedded) == n  # a rebuild re-embeds nothing
    a = np.load(tmp_path / "a" / "vectors.npy")
    b = np.load(tmp_path / "b" / "vectors.npy")
    np.testing.assert_array_equal(a, b)


def test_chunks_and_sentences_are_embedded_in_one_pass(tmp_path):
    emb, inner = cached(tmp_path)
    out = encode_groups(emb, {"chunks": ["补贴 奖励 机器人", "机器人"], "sentences": ["补贴", "机器人", "奖励"]})
    assert len(inner.document_calls) == 1 and sorted(inner.embedded) == sorted(["补贴 奖励 机器人", "机器人", "补贴", "奖励"])
    assert out["chunks"].shape == (2, 4) and out["sentences"].shape == (3, 4)
    np.testing.assert_array_equal(out["chunks"][1], out["sentences"][1])
    assert encode_groups(emb, {"chunks": [], "sentences": ["补贴"]})["chunks"].shape == (0, 4)


def test_bundled_model_checksum_is_remembered_until_the_file_changes(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "model.bin"
    f.write_bytes(b"weights v1")
    assert embeddings._bin_sha256(f) == hashlib.sha256(b"weights v1").hexdigest()
    memo = tmp_path / "cache" / "models" / ".source-sha256.json"
    key = next(iter(json.loads(memo.read_text())))
    memo.write_text(json.dumps({key: "f" * 64}))  # proves the memo is used
    assert embeddings._bin_sha256(f) == "f" * 64
    time.sleep(0.01)
    f.write_bytes(b"weights v2")
    assert embeddings._bin_sha256(f) == hashlib.sha256(b"weights v2").hexdigest()
