"""A tiny ONNX "encoder" and tokenizer made without torch, for exact tests of
the ONNX Runtime embedder, the export cache and the no-torch query path.

The graph is ``last_hidden_state = E[input_ids] * attention_mask``: each token
id has a fixed vector, so mean pooling gives a vector tests can compute by
hand.  The tokenizer splits on whitespace over a small word list.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WORDS = ["[PAD]", "[UNK]", "query:", "passage:", "补贴", "机器人", "奖励", "企业", "专精特新", "政策", "a", "b", "c"]
DIM = 6
MAX_LEN = 8


def table(dim: int = DIM) -> np.ndarray:
    """The token vectors: row i = token i (deterministic, not normalised)."""
    rng = np.random.default_rng(7)
    e = rng.normal(size=(len(WORDS), dim)).astype(np.float32)
    e[0] = 0.0  # padding
    return e


def write_graph(path: Path, emb: np.ndarray) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["h"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["m", "axes"], ["m3"]),
        helper.make_node("Mul", ["h", "m3"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", emb.shape[1]])],
        initializer=[numpy_helper.from_array(emb, "E"), numpy_helper.from_array(np.array([2], dtype=np.int64), "axes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(path))


def write_export(out: Path, pooling: str = "mean", source: str = "tiny-source", int8_scale: float = 1.0) -> Path:
    """A complete export directory as ``ensure_onnx_export`` leaves it
    (the "int8" graph is the same table times ``int8_scale``)."""
    from policyqa.index import onnx_embed

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    emb = table()
    write_graph(out / onnx_embed.FP32_FILE, emb)
    write_graph(out / onnx_embed.INT8_FILE, emb * int8_scale)
    write_tokenizer(out / onnx_embed.TOKENIZER_FILE)
    (out / onnx_embed.CONFIG_FILE).write_text(json.dumps({
        "format": onnx_embed.EXPORT_FORMAT, "pooling": pooling, "normalize": True, "max_seq_length": MAX_LEN,
        "dim": DIM, "pad_token_id": 0, "prompts": {"query": "query: ", "document": "passage: "},
    }), encoding="utf-8")
    onnx_embed.write_marker(out, source)
    return out


def expected(text: str, prompt: str, pooling: str = "mean") -> np.ndarray:
    """What the tiny export should give for ``text`` (by hand)."""
    index = {w: i for i, w in enumerate(WORDS)}
    ids = [index.get(w, 1) for w in (prompt + text.strip()).split()][:MAX_LEN]
    e = table()[ids]
    v = e[0] if pooling == "cls" else e.mean(axis=0)
    return v / np.linalg.norm(v)


def write_st_dir(root: Path, modules=("Transformer", "Pooling", "Normalize"), pooling: str = "mean") -> Path:
    """A sentence-transformers directory layout (configs only, no weights)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize", "Dense": "2_Dense"}
    entries = [{"idx": i, "name": str(i), "path": paths[m], "type": f"sentence_transformers.models.{m}"}
               for i, m in enumerate(modules)]
    (root / "modules.json").write_text(json.dumps(entries), encoding="utf-8")
    (root / "1_Pooling").mkdir(exist_ok=True)
    (root / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": DIM,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": pooling == "max",
    }), encoding="utf-8")
    (root / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": DIM}), encoding="utf-8")
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_LEN}), encoding="utf-8")
    (root / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "q: "}}), encoding="utf-8")
    write_tokenizer(root / "tokenizer.json")
    return root
