"""Sentence-transformers models on ONNX Runtime: export once, embed without torch.

A sentence-transformers directory (a BERT-style ``Transformer`` module, then
``Pooling`` with mean or CLS pooling, then optionally ``Normalize``) is
exported once into a cache directory beside it::

    <model dir>.onnx/              (for the bundled default model)
    $POLICYQA_CACHE/models/onnx/<name>-<fingerprint>/   (any other model)
        model.onnx          fp32: torch.onnx.export (legacy exporter, opset 17,
                            eager attention, no pooler; inputs input_ids and
                            attention_mask, dynamic batch and sequence axes),
                            then ONNX Runtime's BERT optimizer (fused attention,
                            LayerNorm, GELU)
        model-int8.onnx     the optimized graph with dynamic int8 quantization
                            (per-channel signed weights; activations quantized
                            at run time)
        tokenizer.json      the model's fast tokenizer (``tokenizers``)
        embedder.json       pooling, normalisation, max_seq_length, dim, prompts,
                            source model
        .policyqa-onnx.json completion marker: size, mtime and SHA-256 of every file

Everything at query time — tokenization with ``tokenizers``, the forward pass
with ``onnxruntime``, pooling and normalisation with numpy — runs without
torch; torch (and transformers) are imported only by :func:`export_onnx`.

The marker is verified on every load: a missing file or a size mismatch means
the export is rebuilt; a file whose mtime differs from the recorded one has
its SHA-256 recomputed and is rebuilt when that differs (so a corrupted or
truncated file is never used, while an untouched export loads without
re-hashing hundreds of megabytes).  ``verify="full"`` always re-hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

EXPORT_FORMAT = 1
MARKER = ".policyqa-onnx.json"
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "embedder.json"
VARIANT_FILES = {"fp32": FP32_FILE, "int8": INT8_FILE}
OPSET = 17
POOLING_MODES = ("mean", "cls")
# A build batch holds at most this many texts and this many (padded) tokens;
# texts are sorted by length first so padding is small.
DEFAULT_BATCH_SIZE = 32
DEFAULT_BATCH_TOKENS = 8192


class OnnxExportError(RuntimeError):
    """The model cannot be exported to or run on ONNX Runtime; ``str(e)`` is one line."""


# --------------------------------------------------------------------------
# helpers


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Exclusive inter-process lock so concurrent first runs export once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(lock_path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --------------------------------------------------------------------------
# the sentence-transformers directory


@dataclass(frozen=True)
class StLayout:
    """What the exporter needs from a sentence-transformers directory."""

    transformer_dir: Path  # where config.json, weights and tokenizer.json live
    pooling: str  # "mean" | "cls"
    normalize: bool
    max_seq_length: int
    prompts: Mapping[str, str]


def read_st_layout(model_dir: str | Path) -> StLayout:
    """Check that ``model_dir`` is a sentence-transformers model this exporter
    can reproduce (Transformer -> Pooling(mean|cls) [-> Normalize]); raises
    :class:`OnnxExportError` naming what is not supported."""
    root = Path(model_dir)
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OnnxExportError(f"{root} has no modules.json (not a sentence-transformers model directory)") from None
    except (OSError, ValueError) as e:
        raise OnnxExportError(f"{root}/modules.json is unreadable ({e})") from None
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if not kinds or kinds[0] != "Transformer" or "Pooling" not in kinds:
        raise OnnxExportError(f"modules {kinds} are not Transformer -> Pooling [-> Normalize]")
    extra = [k for k in kinds[1:] if k not in ("Pooling", "Normalize")]
    if extra:
        raise OnnxExportError(f"module(s) {', '.join(extra)} after the transformer are not supported by the ONNX export")
    tdir = root / (modules[0].get("path") or "")
    pool_dir = root / next(m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling"))
    try:
        pool = json.loads((pool_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OnnxExportError(f"pooling config {pool_dir}/config.json is unreadable ({e})") from None
    modes = [k for k, v in pool.items() if k.startswith("pooling_mode_") and v]
    mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(modes[0]) if len(modes) == 1 else None
    if mode is None:
        raise OnnxExportError(f"pooling {modes or 'none'} is not supported (only mean or CLS pooling)")
    if not (tdir / "tokenizer.json").is_file():
        raise OnnxExportError(f"{tdir} has no tokenizer.json (a fast tokenizer is needed)")
    if not (tdir / "config.json").is_file():
        raise OnnxExportError(f"{tdir} has no config.json")
    max_len = 512
    for name in ("sentence_bert_config.json", "sentence_xlnet_config.json"):
        p = tdir / name
        if p.is_file():
            try:
                max_len = int(json.loads(p.read_text(encoding="utf-8")).get("max_seq_length") or max_len)
            except (OSError, ValueError, TypeError):
                pass
            break
    prompts: dict[str, str] = {}
    p = root / "config_sentence_transformers.json"
    if p.is_file():
        try:
            prompts = dict(json.loads(p.read_text(encoding="utf-8")).get("prompts") or {})
        except (OSError, ValueError, TypeError):
            prompts = {}
    return StLayout(tdir, mode, "Normalize" in kinds, max_len, prompts)


def source_fingerprint(model_dir: str | Path) -> str:
    """Cheap identity of a model directory: relative path, size and mtime of
    every file (hashing gigabytes of weights on each start would be slow)."""
    root = Path(model_dir).resolve()
    h = hashlib.sha256(str(root).encode("utf-8"))
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".onnx" not in p.parts[-1]:
            st = p.stat()
            h.update(f"{p.relative_to(root).as_posix()}\t{st.st_size}\t{st.st_mtime_ns}\n".encode("utf-8"))
    return h.hexdigest()


def default_export_dir(model_dir: str | Path, cache_root: str | Path | None = None) -> Path:
    """Where the export of ``model_dir`` is cached.

    The bundled default model (a directory under the policyqa cache whose name
    already carries its source checksum) gets ``<model_dir>.onnx`` beside it;
    any other model ``<cache>/models/onnx/<name>-<fingerprint[:12]>``.
    """
    from policyqa.index.e5convert import MARKER as E5_MARKER
    from policyqa.index.e5convert import default_cache_root

    model_dir = Path(model_dir)
    if (model_dir / E5_MARKER).is_file():
        return model_dir.with_name(model_dir.name + ".onnx")
    root = Path(cache_root).expanduser() if cache_root is not None else default_cache_root()
    name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in model_dir.resolve().name)[:60] or "model"
    return root / "models" / "onnx" / f"{name}-{source_fingerprint(model_dir)[:12]}"


# --------------------------------------------------------------------------
# the export (torch lives here only)


def _export_fp32(transformer_dir: Path, out: Path) -> dict:
    """torch.onnx.export of the bare encoder; returns its shape facts."""
    import torch
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(transformer_dir), local_files_only=True)
    kwargs = {"attn_implementation": "eager", "local_files_only": True, "dtype": torch.float32}
    if getattr(config, "model_type", "") in ("bert",):
        kwargs["add_pooling_layer"] = False
    from policyqa.index.embeddings import _quiet_transformers

    with _quiet_transformers():
        model = AutoModel.from_pretrained(str(transformer_dir), **kwargs)
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.long)
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model),
            (ids, mask),
            str(out),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "last_hidden_state": {0: "batch", 1: "sequence"},
            },
            do_constant_folding=True,
        )
    return {
        "model_type": getattr(config, "model_type", ""),
        "num_heads": int(getattr(config, "num_attention_heads", 0) or 0),
        "hidden_size": int(getattr(config, "hidden_size", 0) or 0),
        "pad_token_id": int(getattr(config, "pad_token_id", 0) or 0),
    }


def _optimize(src: Path, dst: Path, facts: Mapping) -> bool:
    """ONNX Runtime's transformer optimizer (attention/LayerNorm/GELU fusion) for
    BERT-family models; other models are copied unchanged.  Returns whether it ran."""
    if facts.get("model_type") not in ("bert", "xlm-roberta", "roberta") or not facts.get("num_heads"):
        shutil.copyfile(src, dst)
        return False
    import logging

    from onnxruntime.transformers.optimizer import optimize_model

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    opt = optimize_model(str(src), model_type="bert", num_heads=facts["num_heads"], hidden_size=facts["hidden_size"])
    opt.save_model_to_file(str(dst))
    return True


def _quantize(src: Path, dst: Path) -> None:
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=True,
        weight_type=QuantType.QInt8,  # unsigned weights are much slower on x86 CPUs
        # needed for the optimized graph: without it quantization stops with
        # "Unable to find data type for weight_name ..."
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def export_onnx(model_dir: str | Path, out_dir: str | Path, log: Callable[[str], None] | None = None) -> Path:
    """Export the sentence-transformers model at ``model_dir`` into ``out_dir``
    (created): fp32 and int8 graphs, tokenizer, ``embedder.json``.  Needs
    torch and transformers.  Raises :class:`OnnxExportError` (one line)."""
    layout = read_st_layout(model_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda msg: None)
    t0 = time.monotonic()
    raw = out / "model-raw.onnx"
    try:
        say(f"exporting {model_dir} to ONNX (once; about a minute)")
        facts = _export_fp32(layout.transformer_dir, raw)
        optimized = _optimize(raw, out / FP32_FILE, facts)
        raw.unlink()
        _quantize(out / FP32_FILE, out / INT8_FILE)
    except OnnxExportError:
        raise
    except Exception as e:  # torch/onnx raise many types; report one line
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        raise OnnxExportError(msg[:300]) from e
    finally:
        raw.unlink(missing_ok=True)
    shutil.copyfile(layout.transformer_dir / "tokenizer.json", out / TOKENIZER_FILE)
    dim = facts["hidden_size"]
    _write_json(out / CONFIG_FILE, {
        "format": EXPORT_FORMAT,
        "source": str(Path(model_dir).resolve()),
        "pooling": layout.pooling,
        "normalize": layout.normalize,
        "max_seq_length": layout.max_seq_length,
        "dim": dim,
        "pad_token_id": facts["pad_token_id"],
        "prompts": dict(layout.prompts),
        "optimized": optimized,
        "opset": OPSET,
        "export_seconds": round(time.monotonic() - t0, 1),
    })
    for p in [out, *out.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return out


# --------------------------------------------------------------------------
# the cache


def _inventory(root: Path) -> dict[str, dict]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MARKER)
    out = {}
    for p in files:
        st = p.stat()
        out[p.relative_to(root).as_posix()] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(p)}
    return out


def write_marker(export_dir: str | Path, source: str, model_dir: str | Path = "") -> None:
    """Record size, mtime and SHA-256 of every file of a finished export."""
    root = Path(export_dir)
    _write_json(root / MARKER, {"format": EXPORT_FORMAT, "source": source, "model_dir": str(model_dir),
                                "files": _inventory(root)})


def is_export_complete(export_dir: str | Path, source: str | None = None, verify: str = "changed") -> bool:
    """True when ``export_dir`` holds a complete, uncorrupted export.

    ``verify="changed"`` re-hashes only files whose size or mtime differ from
    the marker (a size mismatch fails at once); ``"full"`` re-hashes all.
    ``source``, if given, must equal the marker's source fingerprint.
    """
    root = Path(export_dir)
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
        files: Mapping[str, Mapping] = marker["files"]
        if marker.get("format") != EXPORT_FORMAT or not files:
            return False
        if source is not None and marker.get("source") != source:
            return False
        if not all(name in files for name in (FP32_FILE, INT8_FILE, TOKENIZER_FILE, CONFIG_FILE)):
            return False
        for rel, want in files.items():
            p = root / rel
            st = p.stat()
            if st.st_size != want["size"]:
                return False
            if verify == "full" or st.st_mtime_ns != want["mtime_ns"]:
                if _sha256(p) != want["sha256"]:
                    return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def ensure_onnx_export(
    model_dir: str | Path,
    export_dir: str | Path | None = None,
    source: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Return a complete export of ``model_dir``, exporting it when missing,
    incomplete or corrupt (into a temporary sibling, renamed into place under
    an inter-process lock).  ``source`` identifies the model version (default:
    :func:`source_fingerprint`); an export of another version is replaced."""
    target = Path(export_dir) if export_dir is not None else default_export_dir(model_dir)
    source = source or source_fingerprint(model_dir)
    if is_export_complete(target, source):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{target.name}.lock"):
        if is_export_complete(target, source):  # another process finished meanwhile
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            export_onnx(model_dir, tmp, log=log)
            write_marker(tmp, source, model_dir)
            if target.exists():
                stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
                os.replace(target, stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


# --------------------------------------------------------------------------
# the embedder

_native = threading.local()


@contextmanager
def native_phase_signal(event: threading.Event) -> Iterator[None]:
    """Within this block (in one thread), :class:`OnnxEmbedder` sets ``event``
    just before its long GIL-free loads (see ``embeddings.BackgroundLoad``)."""
    _native.event = event
    try:
        yield
    finally:
        _native.event = None


def _entering_native() -> None:
    event = getattr(_native, "event", None)
    if event is not None:
        event.set()



def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Indices grouped into batches of similar length: sorted by length
    (longest first), each batch at most ``batch_size`` texts and at most
    ``max_tokens`` padded tokens (a single longer text gets its own batch)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        width = lengths[cur[0]] if cur else lengths[i]  # longest of the batch comes first
        if cur and (len(cur) >= batch_size or width * (len(cur) + 1) > max_tokens):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str, normalize: bool) -> np.ndarray:
    """Mean (over unmasked tokens) or CLS pooling of [n, seq, dim] states, then
    optional L2 normalisation; float32 [n, dim]."""
    if mode == "cls":
        out = hidden[:, 0, :].astype(np.float32)
    else:
        m = mask.astype(np.float32)[:, :, None]
        out = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    out = np.ascontiguousarray(out, dtype=np.float32)
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


class OnnxEmbedder:
    """An ``Embedder`` on ONNX Runtime.

    ``query_variant`` / ``document_variant`` are "fp32" or "int8": e.g. the
    backend "onnx-int8" uses int8 for both, "onnx" fp32 for both.  A variant's
    session is created on first use.  ``threads``: ONNX Runtime intra-op
    threads (default: all CPUs of this process).

    ``encode_documents`` takes any number of texts of any length (chunks and
    short sentences together): they are tokenized at once, sorted by length
    and run in batches of similar length (:func:`length_batches`; fp32 at
    most ``batch_size`` texts and ``max_batch_tokens`` padded tokens, int8
    one text per run), and returned in input order.
    """

    def __init__(
        self,
        export_dir: str | Path,
        name: str,
        backend: str,
        query_prompt: str = "",
        document_prompt: str = "",
        query_variant: str = "int8",
        document_variant: str = "int8",
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
        threads: int | None = None,
    ) -> None:
        for v in (query_variant, document_variant):
            if v not in VARIANT_FILES:
                raise ValueError(f"unknown ONNX variant {v!r}; choose one of {', '.join(VARIANT_FILES)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        from tokenizers import Tokenizer

        self.export_dir = Path(export_dir)
        self.name = name
        self.backend = backend
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.query_variant = query_variant
        self.document_variant = document_variant
        self.batch_size = batch_size
        self.max_batch_tokens = max(max_batch_tokens, 1)
        self.threads = threads or cpu_count()
        cfg = json.loads((self.export_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        self.dim = int(cfg["dim"])
        self.pooling = cfg.get("pooling", "mean")
        self.normalize = bool(cfg.get("normalize", True))
        self.max_seq_length = int(cfg.get("max_seq_length", 512))
        self.pad_id = int(cfg.get("pad_token_id", 0))
        _entering_native()
        self.tokenizer = Tokenizer.from_file(str(self.export_dir / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self._sessions: dict[str, object] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"OnnxEmbedder(name={self.name!r}, backend={self.backend!r}, dim={self.dim}, "
                f"query={self.query_variant}, documents={self.document_variant})")

    # -- sessions ------------------------------------------------------------

    def session(self, variant: str):
        """The ONNX Runtime session of ``variant`` (created once, thread-safe)."""
        s = self._sessions.get(variant)
        if s is None:
            with self._lock:
                s = self._sessions.get(variant)
                if s is None:
                    s = self._sessions[variant] = make_session(self.export_dir / VARIANT_FILES[variant], self.threads)
        return s

    def warm(self) -> None:
        """Create the query session and run one query, so the first real
        question does not pay for them."""
        self.encode_queries(["warm up"])

    # -- the Embedder protocol -------------------------------------------------

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, self.query_variant, False)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.document_prompt, self.document_variant, progress)

    # -- internals -------------------------------------------------------------

    def tokenize(self, texts: Sequence[str], prompt: str) -> list[list[int]]:
        encs = self.tokenizer.encode_batch([prompt + t.strip() for t in texts])
        return [e.ids for e in encs]

    def _run(self, variant: str, ids: Sequence[Sequence[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        arr = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, x in enumerate(ids):
            arr[r, : len(x)] = x
            mask[r, : len(x)] = 1
        (hidden,) = self.session(variant).run(None, {"input_ids": arr, "attention_mask": mask})
        return pool(hidden, mask, self.pooling, self.normalize)

    def _encode(self, texts: Sequence[str], prompt: str, variant: str, progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode expects a sequence of texts, not a single str; wrap it in a list")
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"text {i} is {type(t).__name__}, expected str")
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        ids = self.tokenize(items, prompt)
        if len(items) == 1:
            out[:] = self._run(variant, ids)
            return out
        # Dynamic int8 quantization scales activations over the whole input,
        # so in a batch a text's vector would depend on its batch-mates: int8
        # texts run one at a time (as fast on CPU, and reproducible).
        per_run = 1 if variant == "int8" else self.batch_size
        batches = length_batches([len(x) for x in ids], per_run, self.max_batch_tokens)
        bar = _progress(len(items)) if progress else None
        try:
            for b in batches:
                out[b] = self._run(variant, [ids[i] for i in b])
                if bar is not None:
                    bar.update(len(b))
        finally:
            if bar is not None:
                bar.close()
        return out


def make_session(path: Path, threads: int, spin: bool = False):
    """An ONNX Runtime CPU session.  ``spin=False`` lets idle pool threads
    sleep instead of busy-waiting: on a 2-core machine shared with other
    processes that embedded 1.6x more chunks/s (measured side by side),
    like OMP_WAIT_POLICY=PASSIVE for faiss."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, threads)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit=" chunks", desc="embedding", file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
