"""The real export (torch -> ONNX -> optimized -> int8) and the real default
model on ONNX Runtime: agreement with torch, the cached export, and the query
path without torch.  All slow (torch import, export, model loads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_embeddings import TEXTS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
QUESTION = "评上国家级专精特新小巨人，宿迁给多少钱？"


def tiny_bert_dir(root: Path, pooling: str = "mean") -> Path:
    """A small random BERT saved as a sentence-transformers directory."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertModel

    import onnx_fixtures as fx

    torch.manual_seed(0)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(60)] + ["补贴", "机器人", "奖励", "企业"]
    cfg = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=64, pad_token_id=0)
    root = fx.write_st_dir(root, modules=("Transformer", "Pooling", "Normalize"), pooling=pooling)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(str(root))
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(root / "tokenizer.json"))
    (root / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "[PAD]", "unk_token": "[UNK]", "model_max_length": 64,
    }), encoding="utf-8")
    (root / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": 32, "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": False,
    }), encoding="utf-8")
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 32}), encoding="utf-8")
    return root


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_any_bert_model_exports_agrees_with_torch_and_is_cached(tmp_path, monkeypatch, pooling):
    from policyqa.index import onnx_embed
    from policyqa.index.embeddings import load_embedder

    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path / "cache"))
    model = tiny_bert_dir(tmp_path / f"tiny-{pooling}", pooling)
    texts = ["补贴 机器人 w1 w2", "奖励 企业", "w3 " * 20, "未知 补贴"]
    ref = load_embedder(str(model), backend="torch")
    fp32 = load_embedder(str(model), backend="onnx")
    assert type(fp32).__name__ == "OnnxEmbedder" and fp32.dim == 32
    export = onnx_embed.default_export_dir(model)
    assert export.parent == tmp_path / "cache" / "models" / "onnx" and onnx_embed.is_export_complete(export, verify="full")
    for enc in ("encode_documents", "encode_queries"):
        a, b = getattr(ref, enc)(texts), getattr(fp32, enc)(texts)
        assert (a * b).sum(axis=1).min() >= 0.9999
    int8 = load_embedder(str(model), backend="onnx-int8")
    assert (int8.encode_documents(texts) * ref.encode_documents(texts)).sum(axis=1).min() >= 0.99
    marker = (export / onnx_embed.MARKER).stat().st_mtime_ns
    load_embedder(str(model), backend="onnx")
    assert (export / onnx_embed.MARKER).stat().st_mtime_ns == marker  # reused, not exported again


@pytest.fixture(scope="module")
def default_models():
    from policyqa.index.embeddings import load_embedder

    return {b: load_embedder("default", backend=b) for b in ("torch", "onnx", "onnx-int8")}


def _passages() -> list[str]:
    from policyqa.corpus.pipeline import chunk_documents, load_corpus

    chunks = chunk_documents(load_corpus().documents)
    return TEXTS + [c.indexed_text() for c in chunks[::4]]


def test_default_model_tokenizer_gives_sentence_transformers_ids(default_models):
    st = default_models["torch"].model
    ours = default_models["onnx"]
    texts = _passages()
    want = st.tokenizer(["passage: " + t.strip() for t in texts], truncation=True, max_length=512)["input_ids"]
    assert ours.tokenize(texts, "passage: ") == want


def test_default_model_fp32_onnx_equals_torch_and_int8_stays_close(default_models):
    texts = _passages()
    ref_p = default_models["torch"].encode_documents(texts)
    ref_q = default_models["torch"].encode_queries(TEXTS)
    fp32, int8 = default_models["onnx"], default_models["onnx-int8"]
    assert (fp32.encode_documents(texts) * ref_p).sum(axis=1).min() >= 0.9999
    assert (fp32.encode_queries(TEXTS) * ref_q).sum(axis=1).min() >= 0.9999
    assert (int8.encode_documents(texts) * ref_p).sum(axis=1).min() >= 0.99
    assert (int8.encode_queries(TEXTS) * ref_q).sum(axis=1).min() >= 0.99
    # int8 vectors do not depend on which texts are embedded together
    np.testing.assert_array_equal(int8.encode_documents(texts[:3]), int8.encode_documents(texts)[:3])


def test_ask_and_the_app_never_import_torch(tmp_path):
    env = dict(os.environ, POLICYQA_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    env.pop("POLICYQA_EMBEDDING_BACKEND", None)
    build = subprocess.run([sys.executable, "-m", "policyqa.cli", "build", "--quiet"], env=env, capture_output=True,
                           text=True, timeout=1200)
    assert build.returncode == 0, build.stderr
    probe = (
        "import sys, json\n"
        "from policyqa.cli import main\n"
        f"code = main(['ask', {QUESTION!r}, '--json'])\n"
        "from policyqa.qa.service import KnowledgeBase\n"
        "import policyqa.app as webapp\n"
        "from fastapi.testclient import TestClient\n"
        "from policyqa.settings import Settings\n"
        "kb = KnowledgeBase.open(Settings.from_env(), build_if_missing=False, progress=False)\n"
        "client = TestClient(webapp.create_app(kb, Settings.from_env(), ui=False))\n"
        f"r = client.post('/api/ask', json={{'question': {QUESTION!r}}})\n"
        "print(json.dumps({'code': code, 'status': r.status_code, 'app_answer': r.json()['answer'][:60],"
        " 'torch': sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))[:3]}), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stderr.strip().splitlines()[-1])
    answer = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("{")))  # ask --json's object
    assert res["code"] == 0 and "100万元" in answer["answer"]
    assert res["status"] == 200 and "宿迁" in res["app_answer"]
    assert res["torch"] == []
    # a process that ends right after opening the knowledge base exits cleanly while the
    # embedder is still loading in its background thread (no C++ "terminate called" abort)
    quick = ("from policyqa.qa.service import KnowledgeBase\nfrom policyqa.settings import Settings\n"
             "KnowledgeBase.open(Settings.from_env(), build_if_missing=False, progress=False)\n")
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", quick], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and "terminate" not in done.stderr, done.stderr[-500:]
