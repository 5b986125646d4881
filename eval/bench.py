"""Index benchmark: build throughput, query latency, memory, disk, ANN recall, cold start.

Two corpora are measured:

* the built-in knowledge base (five documents, ~158 chunks), built and
  queried with the real embedding model end to end;
* a synthetic corpus of ``--synthetic`` chunks (100,000 with ``--full``,
  10,000 with ``--quick``) generated from the built-in chunks by
  :func:`synthetic_corpus`: sentences of real chunks recombined, with their
  numbers, years, region names and clause ordinals varied, so that every text
  is distinct and the jieba/BM25 vocabulary looks like real policy text.

Embedding 100k passages with multilingual-e5-small on 2 CPU cores takes about
two hours, so for the synthetic corpus only a sample (``--sample`` chunks) is
embedded with the real model; its throughput is measured and extrapolated to
the whole corpus (labelled ``extrapolated`` in the output).  The index itself
is built from vectors made by :func:`synthetic_vectors` (the sample's real
vectors, plus mixtures of two of them with Gaussian noise), so FAISS and BM25
build times, memory, disk size, query latency and ANN recall are measured on
a real 100k index; query vectors are always encoded by the real model.

Every phase runs in a fresh Python process (``--no-isolate`` to disable), so
the peak RSS (``resource.getrusage``) reported per phase is that phase's own,
and the cold-start phase pays for its imports like the app does.

Results go to ``artifacts/bench.json`` and a Markdown report (for ``--full``
``docs/benchmark.md``, otherwise ``artifacts/bench.md``)::

    policyqa bench --full          # or: python -m policyqa.eval.bench --full
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions" / "team.jsonl"
GAZETTEER = ROOT / "corpus" / "data" / "gazetteer.tsv"
DEFAULT_JSON = Path("artifacts") / "bench.json"
FULL_DOC = ROOT / "docs" / "benchmark.md"
QUICK_DOC = Path("artifacts") / "bench.md"
COLD_START_GOAL_S = 8.0
COLD_QUESTION = "评上国家级专精特新小巨人，宿迁给多少钱？"
FALLBACK_QUERIES = ("专精特新小巨人企业奖励多少", "智能工厂有什么补贴", "技术改造项目怎么支持", "企业上云有哪些政策")

__all__ = [
    "BenchConfig",
    "PrecomputedEmbedder",
    "synthetic_corpus",
    "synthetic_vectors",
    "load_queries",
    "latency_stats",
    "recall_at_k",
    "run_bench",
    "render_markdown",
    "machine_info",
    "main",
]


# --- configuration -----------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """What to measure.

    Attributes:
        mode: label only ("quick", "full" or "custom").
        n_synthetic: chunks in the synthetic corpus.
        sample: synthetic chunks embedded with the real model (throughput sample
            and seed vectors of the synthetic index).
        queries: queries per latency measurement (team questions, cycled).
        k: hits per query; recall is recall@k.
        seed: seed of the synthetic corpus and vectors.
        model, backend: the embedding model (see ``load_embedder``).
        hnsw_ef: HNSW ``ef_search`` values measured (graph built once).
        ivf_nprobe: IVF ``nprobe`` values measured (lists trained once).
        isolate: run every phase in a fresh process (per-phase peak RSS).
        cold_start: measure ``KnowledgeBase.open`` + first answer.
        omp_wait_policy: ``OMP_WAIT_POLICY`` for the phase processes ("" =
            inherit); "PASSIVE" stops idle OpenMP threads spinning, which
            matters on a busy machine.  Isolated runs only.
        compare_backends: embedding backends measured side by side in one
            process, interleaved, on the built-in chunks (empty: skip).
        compare_rounds: interleaved rounds of that comparison (median kept).
        ncp: folder of the NCP set (corpus.jsonl, dev.jsonl): build its index
            and time answers on it ("" = skip).
        cli_runs: fresh ``policyqa ask`` processes timed per backend.
        app: time the web app's start to its first real answer, and its RSS.
        embed_cache: embedding cache file for the NCP index build ("" = a
            fresh one in the work directory, so everything is embedded).
    """

    mode: str = "quick"
    n_synthetic: int = 10_000
    sample: int = 100
    queries: int = 100
    k: int = 10
    seed: int = 0
    model: str = "default"
    backend: str = "onnx-int8"
    hnsw_ef: tuple[int, ...] = (32, 64, 128, 256)
    ivf_nprobe: tuple[int, ...] = (4, 16, 64)
    isolate: bool = True
    cold_start: bool = True
    omp_wait_policy: str = ""
    compare_backends: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
    compare_rounds: int = 2
    ncp: str = ""
    cli_runs: int = 3
    app: bool = True
    embed_cache: str = ""

    def __post_init__(self) -> None:
        if self.n_synthetic < 1:
            raise ValueError(f"--synthetic must be at least 1, got {self.n_synthetic}")
        if not 1 <= self.sample <= self.n_synthetic:
            raise ValueError(f"--sample must be between 1 and --synthetic ({self.n_synthetic}), got {self.sample}")
        if self.queries < 1:
            raise ValueError(f"--queries must be at least 1, got {self.queries}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.omp_wait_policy.upper() not in ("", "ACTIVE", "PASSIVE"):
            raise ValueError(f"--omp-wait-policy must be ACTIVE or PASSIVE, got {self.omp_wait_policy!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("hnsw_ef", "ivf_nprobe", "compare_backends"):
            d[key] = list(getattr(self, key))
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BenchConfig":
        d = dict(d)
        for key in ("hnsw_ef", "ivf_nprobe", "compare_backends"):
            if key in d:
                d[key] = tuple(d.get(key) or ())
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


QUICK = BenchConfig(mode="quick", n_synthetic=10_000, sample=200, queries=30, cli_runs=2)
# The 100k corpus: 20,000 of its chunks are embedded for real (issue 14).
FULL = BenchConfig(mode="full", n_synthetic=100_000, sample=20_000, queries=200)


# --- measurement helpers -----------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: ru_maxrss is KiB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(r / (1024 * 1024) if sys.platform == "darwin" else r / 1024, 1)


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def dir_bytes(path: str | Path) -> int:
    """Total size of the files under ``path`` (what ``du -b`` counts, apparent sizes)."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/max in milliseconds of per-call durations."""
    if not seconds:
        raise ValueError("no timings to summarise")
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "n": int(len(ms)),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "max_ms": round(float(ms.max()), 3),
    }


def _timed(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return out


def recall_at_k(approx: Sequence[Sequence[str]], exact: Sequence[Sequence[str]], k: int) -> float:
    """Mean over queries of |approx top-k ∩ exact top-k| / |exact top-k|."""
    if len(approx) != len(exact):
        raise ValueError(f"{len(approx)} approximate result lists but {len(exact)} exact ones")
    scores = []
    for a, e in zip(approx, exact):
        truth = set(list(e)[:k])
        if truth:
            scores.append(len(truth & set(list(a)[:k])) / len(truth))
    return round(float(np.mean(scores)), 4) if scores else 0.0


def load_queries(n: int, path: Path = QUESTIONS) -> list[str]:
    """``n`` questions of the team question set, cycled (fallback: a few built-in ones)."""
    qs: list[str] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = (json.loads(line).get("question") or "").strip()
                if q:
                    qs.append(q)
    qs = qs or list(FALLBACK_QUERIES)
    return [qs[i % len(qs)] for i in range(n)]


def unique_queries(n: int) -> list[str]:
    return list(dict.fromkeys(load_queries(n)))


def machine_info() -> dict[str, Any]:
    cpu = ""
    ram_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        nproc = os.cpu_count()
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for label, dist in (("torch", "torch"), ("faiss", "faiss-cpu"), ("bm25s", "bm25s"), ("jieba", "jieba"),
                        ("sentence_transformers", "sentence-transformers"), ("numpy", "numpy")):
        try:
            versions[label] = version(dist)  # no import: torch alone takes seconds
        except PackageNotFoundError:
            versions[label] = None
    return {
        "nproc": nproc,
        "cpu_model": cpu or platform.processor() or "unknown",
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


# --- synthetic corpus --------------------------------------------------------------

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
# A year (2023年, 2023-2025) or any other number.
_NUMBER = re.compile(r"(?P<year>(?:19|20)\d{2}(?=年|-|—|～|~))|\d+(?:\.\d+)?")
_CN_DIGITS = "零一二三四五六七八九"
_TOPICS = (
    "专精特新中小企业培育工作方案",
    "推动工业经济高质量发展的实施意见",
    "中小企业发展工作要点",
    "制造业智能化改造和数字化转型行动计划",
    "企业上云用云实施方案",
    "促进民营经济发展若干政策措施",
    "绿色制造体系建设实施方案",
    "优化营商环境服务承诺清单",
)
_HEADINGS = ("总体要求", "重点任务", "支持政策", "保障措施", "工作目标", "培育措施", "组织实施", "资金支持")
_DOC_TYPES = ("notice", "plan", "work-points", "interview", "other")
# Place names of the built-in documents that synthetic chunks replace.
_REAL_PLACES = re.compile(r"宿迁|徐州|漯河|宿州|盐城|亭湖|江苏|河南|安徽")


def cn_number(n: int) -> str:
    """Chinese numeral for 1..99 (一, 十, 十二, 二十三)."""
    if not 1 <= n <= 99:
        raise ValueError(f"cn_number supports 1..99, got {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def _places(path: Path = GAZETTEER) -> list[tuple[str, str]]:
    """(province, city-or-district name) pairs from the gazetteer."""
    names: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "\t" in line:
            code, name = line.split("\t", 1)
            names[code] = name
    out = []
    for code, name in names.items():
        if code.endswith("0000"):
            continue
        province = names.get(code[:2] + "0000", "")
        if name.endswith(("市", "区", "县")) and province and len(name) >= 3:
            out.append((province, name))
    return sorted(out) or [("江苏省", "宿迁市")]


def _stem(name: str) -> str:
    return name[:-1] if len(name) >= 3 and name[-1] in "省市区县" else name


def _vary(sentence: str, rng: random.Random, place: str, province: str) -> str:
    """One real sentence with new numbers, years and place names."""
    def number(m: re.Match) -> str:
        digits = m.group(0)
        if m.group("year"):
            return str(rng.randint(2015, 2030))
        if "." in digits:
            return f"{rng.uniform(0.5, 99):.1f}"
        return str(rng.randint(1, 10 ** min(len(digits), 4) - 1 or 9))

    s = _NUMBER.sub(number, sentence)
    return _REAL_PLACES.sub(lambda m: _stem(province) if m.group(0) in ("江苏", "河南", "安徽") else _stem(place), s)


def _sentences(chunks: Sequence) -> list[str]:
    out = []
    for c in chunks:
        for m in _SENTENCE.finditer(c.text):
            s = m.group(0).strip()
            if len(s) >= 8:
                out.append(s)
    return out


def synthetic_corpus(
    docs: Sequence,
    chunks: Sequence,
    n: int,
    seed: int = 0,
    chunks_per_doc: int = 100,
    max_chars: int = 400,
) -> tuple[list, list]:
    """``n`` distinct synthetic chunks (and their documents) made from real ones.

    Each chunk is 3–6 sentences drawn from ``chunks`` with their numbers,
    years and the built-in documents' place names replaced at random; each
    synthetic document gets a gazetteer region, a date, a 文号 and up to
    ``chunks_per_doc`` chunks under 一、/1. style section paths.  The
    documents' text is their chunks joined by newlines, so
    ``doc.text[c.start:c.end] == c.text``.  Deterministic for a given seed;
    the inputs are not modified.
    """
    from policyqa.corpus.types import Chunk, DocMeta, Document

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if chunks_per_doc < 1:
        raise ValueError(f"chunks_per_doc must be >= 1, got {chunks_per_doc}")
    pool = _sentences(chunks)
    if not pool:
        raise ValueError("no sentences of 8+ characters in the given chunks to build a synthetic corpus from")
    templates = [d.meta for d in docs] or [DocMeta(doc_id="x")]
    places = _places()
    rng = random.Random(seed)
    seen: set[str] = set()
    out_docs: list = []
    out_chunks: list = []
    n_docs = math.ceil(n / chunks_per_doc)
    for j in range(n_docs):
        template = templates[j % len(templates)]
        province, place = places[rng.randrange(len(places))]
        year = rng.randint(2015, 2025)
        title = f"关于印发{place}{year}年{_TOPICS[rng.randrange(len(_TOPICS))]}的通知"
        doc_id = f"syn{j:06d}"
        meta = DocMeta(
            doc_id=doc_id,
            title=title,
            issuer=f"{place}工业和信息化局",
            date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            doc_number=f"{_stem(place)}工信发〔{year}〕{rng.randint(1, 99)}号",
            region=f"{province}{place}",
            province=province,
            city=place if place.endswith("市") else "",
            district=place if not place.endswith("市") else "",
            doc_type=template.doc_type or _DOC_TYPES[j % len(_DOC_TYPES)],
            source="synthetic",
        )
        texts: list[tuple[str, str]] = []
        count = min(chunks_per_doc, n - j * chunks_per_doc)
        for i in range(count):
            section = f"{cn_number(i // 10 + 1)}、{_HEADINGS[(i // 10) % len(_HEADINGS)]} > {i % 10 + 1}."
            while True:
                parts = [_vary(pool[rng.randrange(len(pool))], rng, place, province) for _ in range(rng.randint(3, 6))]
                text = f"{i % 10 + 1}.{''.join(parts)}"[:max_chars]
                if text not in seen:
                    seen.add(text)
                    break
            texts.append((section, text))
        body, offsets, pos = [], [], 0
        for _, text in texts:
            offsets.append(pos)
            body.append(text)
            pos += len(text) + 1
        doc = Document(meta=meta, text="\n".join(body))
        out_docs.append(doc)
        for i, ((section, text), start) in enumerate(zip(texts, offsets)):
            out_chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}#{i}",
                    doc_id=doc_id,
                    section=section,
                    text=text,
                    start=start,
                    end=start + len(text),
                    header=f"{meta.region} {title}\n{section}",
                )
            )
    return out_docs, out_chunks


def synthetic_vectors(n: int, base: np.ndarray, seed: int = 0, noise: float = 0.5) -> np.ndarray:
    """``n`` unit vectors: the rows of ``base`` first, then noisy mixtures of two base rows.

    Row ``i >= len(base)`` is ``normalise(w·a + (1-w)·b + noise·g/√d)`` with
    ``a, b`` random base rows, ``w ~ U(0.5, 1)`` and ``g`` standard Gaussian,
    so the vectors keep the real model's geometry (clusters, anisotropy) while
    every vector is distinct.  ``base`` is not modified.
    """
    base = np.asarray(base, dtype=np.float32)
    if base.ndim != 2 or len(base) == 0:
        raise ValueError(f"base must be a non-empty 2-d array, got shape {base.shape}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    dim = base.shape[1]
    head = base[: min(n, len(base))]
    m = n - len(head)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    out[: len(head)] = head
    step = 20_000
    for lo in range(0, m, step):
        size = min(step, m - lo)
        a = base[rng.integers(0, len(base), size)]
        b = base[rng.integers(0, len(base), size)]
        w = rng.uniform(0.5, 1.0, size=(size, 1)).astype(np.float32)
        g = rng.standard_normal((size, dim), dtype=np.float32) * (noise / math.sqrt(dim))
        out[len(head) + lo : len(head) + lo + size] = w * a + (1 - w) * b + g
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class PrecomputedEmbedder:
    """An ``Embedder`` whose document vectors are given (text -> row); queries go to ``query_embedder``.

    Lets :meth:`IndexStore.build` index 100k chunks without running the model
    over them while recording the real model's name in the manifest, so the
    index can later be queried with that model.
    """

    def __init__(self, texts: Sequence[str], vectors: np.ndarray, name: str, backend: str, query_embedder=None) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ValueError(f"{len(texts)} texts but vectors of shape {vectors.shape}")
        self._row = {t: i for i, t in enumerate(texts)}
        if len(self._row) != len(texts):
            raise ValueError("texts must be distinct")
        self._vectors = vectors
        self.name = name
        self.backend = backend
        self.dim = int(vectors.shape[1])
        self.query_embedder = query_embedder
        self.seconds = 0.0

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        t = time.perf_counter()
        missing = [s for s in texts if s not in self._row]
        if missing and (self.query_embedder is None or not hasattr(self.query_embedder, "encode_documents")):
            raise KeyError(f"no precomputed vector for text {str(missing[0])[:40]!r}")
        if not missing:
            out = self._vectors[[self._row[s] for s in texts]]
        else:  # e.g. the sentence vectors of a built index: embedded by the real model
            extra = np.asarray(self.query_embedder.encode_documents(list(dict.fromkeys(missing))), dtype=np.float32)
            where = {s: i for i, s in enumerate(dict.fromkeys(missing))}
            out = np.stack([self._vectors[self._row[s]] if s in self._row else extra[where[s]] for s in texts]) \
                if texts else np.zeros((0, self.dim), np.float32)
        self.seconds += time.perf_counter() - t
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.query_embedder is None:
            raise ValueError("PrecomputedEmbedder has no query embedder")
        return self.query_embedder.encode_queries(texts)


class _TimedEmbedder:
    """Wraps an embedder and adds up the time spent in ``encode_documents``."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.backend, self.dim = inner.name, inner.backend, inner.dim
        self.seconds = 0.0

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        t = time.perf_counter()
        try:
            return self.inner.encode_documents(texts, progress=progress)
        finally:
            self.seconds += time.perf_counter() - t

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)


class _TimedTokenizer:
    """Wraps a tokenizer and adds up the time spent tokenising."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = 0.0

    def tokenize(self, text: str) -> list[str]:
        t = time.perf_counter()
        try:
            return self.inner.tokenize(text)
        finally:
            self.seconds += time.perf_counter() - t

    def settings(self) -> dict:
        s = getattr(self.inner, "settings", None)
        return dict(s()) if callable(s) else {"kind": type(self.inner).__name__}


# --- phases ------------------------------------------------------------------------
#
# A phase is a function (cfg, workdir, ctx, make) -> dict.  ``ctx`` holds
# results of earlier phases it needs; ``make`` creates the embedder (the real
# model unless a test injects a fake) and the tokenizer (jieba).


@dataclass(frozen=True)
class Makers:
    """Zero-argument factories of the embedder and the BM25 tokenizer."""

    embedder: Callable[[], Any]
    tokenizer: Callable[[], Any]


def _builtin() -> tuple[list, list]:
    from policyqa.corpus.pipeline import chunk_documents, load_corpus

    report = load_corpus()
    return list(report.documents), chunk_documents(report.documents)


def _synthetic(cfg: BenchConfig) -> tuple[list, list]:
    docs, chunks = _builtin()
    return synthetic_corpus(docs, chunks, cfg.n_synthetic, seed=cfg.seed)


def _jieba():
    from policyqa.index.tokenize import JiebaTokenizer

    return JiebaTokenizer()


def _chunker_settings() -> dict:
    from policyqa.corpus.chunk import ChunkerConfig

    return ChunkerConfig().to_dict()


def phase_builtin_build(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """Build the built-in index with the real model (everything measured)."""
    from policyqa.index.store import IndexStore

    t = time.perf_counter()
    docs, chunks = _builtin()
    corpus_s = time.perf_counter() - t
    t = time.perf_counter()
    emb = _TimedEmbedder(make.embedder())
    model_load_s = time.perf_counter() - t
    tok = _TimedTokenizer(make.tokenizer())
    out = workdir / "builtin-index"
    t = time.perf_counter()
    # precomputed vectors exist for chunks only: the synthetic index has no sentence vectors
    store = IndexStore.build(docs, chunks, emb, tok, out, chunker_settings=_chunker_settings(), progress=False, with_sentences=False)
    build_s = time.perf_counter() - t
    return {
        "n_docs": len(docs),
        "n_chunks": len(chunks),
        "mean_chars": round(float(np.mean([len(c.indexed_text()) for c in chunks])), 1),
        "corpus_load_chunk_s": round(corpus_s, 3),
        "model_load_s": round(model_load_s, 3),
        "embed_s": round(emb.seconds, 3),
        "embed_chunks_per_s": round(len(chunks) / emb.seconds, 2) if emb.seconds else None,
        "tokenize_s": round(tok.seconds, 3),
        "build_s": round(build_s, 3),
        "build_chunks_per_s": round(len(chunks) / build_s, 2),
        "dense_kind": store.dense.resolved_kind(),
        "embedding": {"model": emb.name, "backend": emb.backend, "dim": emb.dim},
        "index_dir": str(out),
        "index_bytes": dir_bytes(out),
    }


def _query_latencies(store, queries: Sequence[str], k: int) -> dict:
    from policyqa.corpus.clean import normalize_query

    out: dict[str, Any] = {}
    base = store.retrieval_config
    first: dict[str, float] = {}
    for mode in ("bm25", "dense", "hybrid"):
        r = store.retriever(replace(base, mode=mode))
        t = time.perf_counter()
        r.search(queries[0], k)  # warm-up; the first dense search loads the model
        first[mode] = round(time.perf_counter() - t, 3)
        out[mode] = latency_stats(_timed(lambda q: r.search(q, k), queries))
    emb = store.embedder
    qvecs: list[np.ndarray] = []
    out["dense_encode"] = latency_stats(_timed(lambda q: qvecs.append(emb.encode_queries([normalize_query(q)])), queries))
    out["dense_search"] = latency_stats(_timed(lambda v: store.dense.search(v, k), qvecs))
    out["first_query_s"] = first
    out["retrieval"] = {**base.to_dict(), "k": k}
    out["n_unique_queries"] = len(set(queries))
    return out


def _open_store(path: Path, make: Makers):
    from policyqa.index.store import IndexStore

    t = time.perf_counter()
    store = IndexStore.load(path, make.embedder, tokenizer=make.tokenizer())
    return store, time.perf_counter() - t


def phase_builtin_query(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    store, load_s = _open_store(workdir / "builtin-index", make)
    res = _query_latencies(store, load_queries(cfg.queries), cfg.k)
    res["load_s"] = round(load_s, 3)
    return res


def phase_sample(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """Embed ``cfg.sample`` synthetic chunks with the real model, through a fresh
    embedding cache (as builds do); then again (all cached) and with 10% of the
    texts changed.  Saves the vectors and the query vectors."""
    from policyqa.corpus.clean import normalize_query
    from policyqa.index.embed_cache import CachedEmbedder, EmbeddingCache

    t = time.perf_counter()
    _, chunks = _synthetic(cfg)
    gen_s = time.perf_counter() - t
    texts = [c.indexed_text() for c in chunks[: cfg.sample]]
    t = time.perf_counter()
    emb = make.embedder()
    model_load_s = time.perf_counter() - t
    emb.encode_documents(["预热文本：" + s for s in texts[:8]])  # warm-up (first runs pay one-off costs)
    cache_path = workdir / "sample-embedding-cache.sqlite3"
    cache_path.unlink(missing_ok=True)
    cached = CachedEmbedder(emb, EmbeddingCache(cache_path))
    t = time.perf_counter()
    vecs = np.asarray(cached.encode_documents(texts), dtype=np.float32)
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    again = cached.encode_documents(texts)
    warm_s = time.perf_counter() - t
    changed = [f"{s}（修订）" if i % 10 == 0 else s for i, s in enumerate(texts)]
    t = time.perf_counter()
    cached.encode_documents(changed)
    changed_s, n_changed = time.perf_counter() - t, cached.last_embedded
    queries = unique_queries(cfg.queries)
    qvecs = np.asarray(emb.encode_queries([normalize_query(q) for q in queries]), dtype=np.float32)
    np.save(workdir / "sample_vectors.npy", vecs)
    np.save(workdir / "query_vectors.npy", qvecs)
    rate = len(texts) / embed_s
    return {
        "generate_s": round(gen_s, 3),
        "generate_chunks_per_s": round(len(chunks) / gen_s, 1),
        "n_chunks": len(chunks),
        "n_docs": len({c.doc_id for c in chunks}),
        "mean_chars": round(float(np.mean([len(c.indexed_text()) for c in chunks])), 1),
        "sample": len(texts),
        "sample_mean_chars": round(float(np.mean([len(s) for s in texts])), 1),
        "model_load_s": round(model_load_s, 3),
        "embed_s": round(embed_s, 3),
        "embed_chunks_per_s": round(rate, 2),
        "extrapolated_embed_s": round(len(chunks) / rate, 3),
        "cache": {
            "cold_s": round(embed_s, 3),
            "warm_s": round(warm_s, 3),
            "warm_chunks_per_s": round(len(texts) / warm_s, 1),
            "warm_identical": bool(np.array_equal(again, vecs)),
            "changed": n_changed,
            "changed_s": round(changed_s, 3),
            "changed_chunks_per_s": round(len(texts) / changed_s, 1),
            "file_bytes": sum(p.stat().st_size for p in (cache_path, Path(f"{cache_path}-wal")) if p.exists()),
        },
        "embedding": {"model": emb.name, "backend": emb.backend, "dim": int(emb.dim)},
        "n_query_vectors": len(queries),
    }


def phase_synth_build(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """Build the synthetic index from precomputed vectors (FAISS + BM25 + save measured)."""
    from policyqa.index.store import IndexStore

    docs, chunks = _synthetic(cfg)
    base = np.load(workdir / "sample_vectors.npy")
    t = time.perf_counter()
    vecs = synthetic_vectors(len(chunks), base, seed=cfg.seed)
    vectors_s = time.perf_counter() - t
    e = ctx["embedding"]
    emb = PrecomputedEmbedder([c.indexed_text() for c in chunks], vecs, e["model"], e["backend"])
    del vecs
    tok = _TimedTokenizer(make.tokenizer())
    out = workdir / "synthetic-index"
    t = time.perf_counter()
    # precomputed vectors exist for chunks only: the synthetic index has no sentence vectors
    store = IndexStore.build(docs, chunks, emb, tok, out, chunker_settings=_chunker_settings(), progress=False, with_sentences=False)
    build_s = time.perf_counter() - t
    files = {p.name: (dir_bytes(p) if p.is_dir() else p.stat().st_size) for p in sorted(out.iterdir())}
    measured = build_s - emb.seconds
    estimated = measured + ctx["extrapolated_embed_s"]
    return {
        "n_docs": len(docs),
        "n_chunks": len(chunks),
        "synthetic_vectors_s": round(vectors_s, 3),
        "vector_lookup_s": round(emb.seconds, 3),
        "tokenize_s": round(tok.seconds, 3),
        "build_s": round(build_s, 3),
        "build_without_embedding_s": round(measured, 3),
        "build_chunks_per_s_without_embedding": round(len(chunks) / measured, 1),
        "extrapolated_embed_s": ctx["extrapolated_embed_s"],
        "estimated_build_with_model_s": round(estimated, 1),
        "estimated_build_chunks_per_s": round(len(chunks) / estimated, 2),
        "dense_kind": store.dense.resolved_kind(),
        "index_dir": str(out),
        "index_bytes": dir_bytes(out),
        "index_files_bytes": files,
    }


def phase_synth_query(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    store, load_s = _open_store(workdir / "synthetic-index", make)
    res = _query_latencies(store, load_queries(cfg.queries), cfg.k)
    res["load_s"] = round(load_s, 3)
    res["dense_kind"] = store.dense.resolved_kind()
    return res


def _ann_search(index, qvecs: np.ndarray, k: int) -> tuple[list[list[str]], dict]:
    """Results and latency with FAISS's default OpenMP threads, plus latency with one thread."""
    import faiss

    results, times = [], []
    for v in qvecs:
        t = time.perf_counter()
        hits = index.search(v, k)
        times.append(time.perf_counter() - t)
        results.append([cid for cid, _ in hits])
    stats = latency_stats(times)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        one = latency_stats(_timed(lambda v: index.search(v, k), qvecs))
    finally:
        faiss.omp_set_num_threads(threads)
    stats.update({"threads": threads, "p50_ms_1thread": one["p50_ms"], "p95_ms_1thread": one["p95_ms"]})
    return results, stats


def phase_ann(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """Exact flat vs HNSW vs IVF over the synthetic vectors, queried with real query vectors."""
    from policyqa.index.dense import DenseIndex

    src = workdir / "synthetic-index"
    vecs = np.load(src / "vectors.npy")
    ids = (src / "ids.txt").read_text(encoding="utf-8").splitlines()
    qvecs = np.load(workdir / "query_vectors.npy")
    k = cfg.k
    out: dict[str, Any] = {"n_vectors": len(ids), "dim": int(vecs.shape[1]), "n_queries": len(qvecs), "k": k}
    rows = []

    def build(kind: str, **kw):
        idx = DenseIndex(vecs.shape[1], kind=kind, **kw)
        t = time.perf_counter()
        idx.add(ids, vecs)
        build_s = time.perf_counter() - t
        d = workdir / f"ann-{kind}"
        idx.save(d)
        return idx, d, round(build_s, 3), (d / "faiss.index").stat().st_size

    flat, _, flat_build, flat_bytes = build("flat")
    exact, lat = _ann_search(flat, qvecs, k)
    rows.append({"kind": "flat", "param": "", "build_s": flat_build, "faiss_bytes": flat_bytes, "recall": 1.0, **lat})
    del flat
    hnsw, d, b, size = build("hnsw")
    params = {"hnsw_m": hnsw.hnsw_m}
    del hnsw
    for ef in cfg.hnsw_ef:
        idx = DenseIndex.load(d, kind="hnsw", ef_search=ef, **params)
        res, lat = _ann_search(idx, qvecs, k)
        rows.append({"kind": "hnsw", "param": f"M={params['hnsw_m']} efSearch={ef}", "build_s": b, "faiss_bytes": size,
                     "recall": recall_at_k(res, exact, k), **lat})
    if len(ids) >= 39:
        ivf, d, b, size = build("ivf")
        nlist = max(1, min(int(math.sqrt(len(ids))), len(ids) // 39))
        del ivf
        for nprobe in cfg.ivf_nprobe:
            idx = DenseIndex.load(d, kind="ivf", ivf_nprobe=nprobe)
            res, lat = _ann_search(idx, qvecs, k)
            rows.append({"kind": "ivf", "param": f"nlist={nlist} nprobe={min(nprobe, nlist)}", "build_s": b,
                         "faiss_bytes": size, "recall": recall_at_k(res, exact, k), **lat})
    out["results"] = rows
    d = DenseIndex(int(vecs.shape[1]))
    out["defaults"] = {"approx_threshold": d.approx_threshold, "hnsw_m": d.hnsw_m, "ef_search": d.ef_search,
                       "ivf_nprobe": d.ivf_nprobe}
    return out


def phase_cold_start(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """KnowledgeBase.open on a built index, then the first (and a second) answer.

    In an isolated run this process has imported nothing of policyqa yet, so
    ``import_s`` is the app's import cost.  With an injected (fake) embedder
    ``KnowledgeBase.open`` cannot be used; the store is loaded with it instead.
    """
    t0 = time.perf_counter()
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    import_s = time.perf_counter() - t0
    index_dir = workdir / ctx["index"]
    settings = Settings(home=workdir / "home", index_dir=index_dir)
    t = time.perf_counter()
    if ctx.get("injected"):
        from policyqa.index.store import IndexStore

        kb = KnowledgeBase(IndexStore.load(index_dir, make.embedder, tokenizer=make.tokenizer()), settings)
        method = "IndexStore.load(injected embedder) + KnowledgeBase(...)"
    else:
        kb = KnowledgeBase.open(settings, build_if_missing=False, progress=False)
        method = "KnowledgeBase.open(build_if_missing=False)"
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    first = kb.answer(COLD_QUESTION)
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    kb.answer("技术改造项目有什么支持政策？")
    second_s = time.perf_counter() - t
    total = time.perf_counter() - t0
    return {
        "index": ctx["index"],
        "method": method,
        "import_s": round(import_s, 3),
        "open_s": round(open_s, 3),
        "first_answer_s": round(first_s, 3),
        "second_answer_s": round(second_s, 3),
        "open_plus_first_answer_s": round(open_s + first_s, 3),
        "total_s": round(total, 3),
        "first_answer_refused": bool(first.refused),
        "first_answer_citations": len(first.citations),
    }


def phase_backends(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """The embedding backends side by side in one process, interleaved: the same
    built-in chunks and questions, ``cfg.compare_rounds`` rounds, medians kept,
    so the ratios hold however busy the machine is.  Also saves a built-in index
    with the torch vectors (``builtin-torch-index``) for the fresh-process runs."""
    from policyqa.corpus.clean import normalize_query
    from policyqa.index.embeddings import load_embedder, vector_space
    from policyqa.index.store import IndexStore

    docs, chunks = _builtin()
    texts = [c.indexed_text() for c in chunks]
    queries = [normalize_query(q) for q in unique_queries(cfg.queries)][:60]
    embs, load_s = {}, {}
    for b in cfg.compare_backends:
        t = time.perf_counter()
        embs[b] = load_embedder(cfg.model, b)
        load_s[b] = round(time.perf_counter() - t, 2)
        embs[b].encode_documents(texts[:4])
        embs[b].encode_queries(queries[:2])
    rates: dict[str, list[float]] = {b: [] for b in embs}
    p50s: dict[str, list[float]] = {b: [] for b in embs}
    vecs: dict[str, np.ndarray] = {}
    qvecs: dict[str, np.ndarray] = {}
    for _ in range(max(1, cfg.compare_rounds)):
        for b, e in embs.items():
            t = time.perf_counter()
            vecs[b] = np.asarray(e.encode_documents(texts), dtype=np.float32)
            rates[b].append(len(texts) / (time.perf_counter() - t))
            times = []
            for q in queries:
                t = time.perf_counter()
                e.encode_queries([q])
                times.append(time.perf_counter() - t)
            p50s[b].append(float(np.percentile(times, 50)) * 1000)
        qvecs = {b: np.asarray(e.encode_queries(queries), dtype=np.float32) for b, e in embs.items()}
    ref = "torch" if "torch" in embs else next(iter(embs))
    rows = []
    for b in embs:
        row = {"backend": b, "space": vector_space(b), "load_s": load_s[b],
               "chunks_per_s": round(float(np.median(rates[b])), 2), "rounds_chunks_per_s": [round(x, 2) for x in rates[b]],
               "query_p50_ms": round(float(np.median(p50s[b])), 2), "rounds_query_p50_ms": [round(x, 2) for x in p50s[b]]}
        if b != ref:
            cp = (vecs[b] * vecs[ref]).sum(axis=1)
            cq = (qvecs[b] * qvecs[ref]).sum(axis=1)
            row.update(cos_passages_min=round(float(cp.min()), 5), cos_passages_mean=round(float(cp.mean()), 5),
                       cos_queries_min=round(float(cq.min()), 5))
        rows.append(row)
    base = next(r for r in rows if r["backend"] == ref)
    for r in rows:
        r["speedup_vs_" + ref] = round(r["chunks_per_s"] / base["chunks_per_s"], 2)
        r["query_speedup_vs_" + ref] = round(base["query_p50_ms"] / r["query_p50_ms"], 2)
    if "torch" in embs:  # an index whose vectors are torch's, for `policyqa ask --backend torch`
        e = embs["torch"]
        pre = PrecomputedEmbedder(texts, vecs["torch"], e.name, "torch", e)
        IndexStore.build(docs, chunks, pre, _jieba(), workdir / "builtin-torch-index",
                         chunker_settings=_chunker_settings(), progress=False)
    return {"reference": ref, "n_chunks": len(texts), "mean_chars": round(float(np.mean([len(x) for x in texts])), 1),
            "n_queries": len(queries), "rounds": max(1, cfg.compare_rounds), "backends": rows,
            "torch_index": "builtin-torch-index" if "torch" in embs else None}


def _answer_latencies(kb, questions: Sequence[str]) -> dict:
    kb.answer(questions[0])  # warm-up
    return latency_stats(_timed(lambda q: kb.answer(q), questions))


def _ncp_questions(folder: Path, n: int) -> list[str]:
    qs = []
    for line in (folder / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = (json.loads(line).get("question") or "").strip()
            if q:
                qs.append(q)
    return qs[:n]


def phase_answers(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """``KnowledgeBase.answer`` end to end (retrieval + composition), warm: on the
    built-in index over the team questions and, with ``cfg.ncp``, on an index
    of the NCP corpus built here (its build time measured) over NCP questions."""
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.index.embed_cache import CachedEmbedder, EmbeddingCache
    from policyqa.index.store import IndexStore
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    settings = Settings(home=workdir / "home", index_dir=workdir / "builtin-index")
    emb = make.embedder()
    tok = make.tokenizer()
    kb = KnowledgeBase(IndexStore.load(workdir / "builtin-index", emb, tokenizer=tok), settings)
    out: dict[str, Any] = {"builtin": _answer_latencies(kb, load_queries(cfg.queries))}
    if cfg.ncp:
        folder = Path(cfg.ncp)
        t = time.perf_counter()
        report = load_corpus([folder / "corpus.jsonl"])
        chunks = chunk_documents(report.documents)
        prep_s = time.perf_counter() - t
        if cfg.embed_cache:
            cache_path = Path(cfg.embed_cache)
        else:
            cache_path = workdir / "ncp-embedding-cache.sqlite3"
            cache_path.unlink(missing_ok=True)
        cached = CachedEmbedder(emb, EmbeddingCache(cache_path))
        timed = _TimedEmbedder(cached)
        t = time.perf_counter()
        store = IndexStore.build(report.documents, chunks, timed, tok, workdir / "ncp-index",
                                 chunker_settings=_chunker_settings(), progress=False)
        build_s = time.perf_counter() - t
        kb = KnowledgeBase(IndexStore.load(store.path, emb, tokenizer=tok), settings)
        out["ncp"] = {
            "n_docs": len(report.documents), "n_chunks": len(chunks), "load_chunk_s": round(prep_s, 2),
            "build_s": round(build_s, 2), "embed_s": round(timed.seconds, 2),
            "build_chunks_per_s": round(len(chunks) / build_s, 2), "embed_chunks_per_s": round(len(chunks) / timed.seconds, 2),
            "embedded": cached.last_embedded, "cached": cached.last_hits, "embed_cache": str(cfg.embed_cache or ""),
            **_answer_latencies(kb, _ncp_questions(folder, cfg.queries)),
        }
    return out


_ASK_PROBE = (
    "import sys, time\n"
    "from policyqa.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('PROBE', code, int('torch' in sys.modules), file=sys.stderr)\n"
)


def _run_child(argv: Sequence[str], env: Mapping[str, str]) -> dict:
    """Wall time, peak RSS (``wait4``) and exit status of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    probe = [ln for ln in stderr.splitlines() if ln.startswith("PROBE ")]
    code, torch = (probe[-1].split()[1:3] if probe else (str(proc.returncode), "?"))
    return {"wall_s": round(wall, 3), "exit": int(code) if code.lstrip("-").isdigit() else code,
            "torch_imported": torch == "1", "answer_chars": len(stdout), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "error": "" if probe else (stderr.strip().splitlines() or ["no output"])[-1][:200]}


def phase_cli(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """``policyqa ask`` in fresh processes on the built index (default backend
    and, when the comparison built one, torch), interleaved ``cfg.cli_runs`` times."""
    env = dict(os.environ, POLICYQA_HOME=str(workdir / "home"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    variants = {cfg.backend: workdir / "builtin-index"}
    if (workdir / "builtin-torch-index" / "manifest.json").is_file() and cfg.backend != "torch":
        variants["torch"] = workdir / "builtin-torch-index"
    runs: dict[str, list[dict]] = {b: [] for b in variants}
    for _ in range(max(1, cfg.cli_runs)):
        for b, index in variants.items():
            argv = [sys.executable, "-c", _ASK_PROBE, "ask", COLD_QUESTION, "--index", str(index), "--embedding-backend", b]
            if cfg.model != "default":
                argv += ["--model", cfg.model]
            runs[b].append(_run_child(argv, env))
    out = {}
    for b, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        out[b] = {"runs": rs, "wall_s_median": round(float(np.median(walls)), 3), "wall_s_min": round(min(walls), 3),
                  "peak_rss_mb_median": round(float(np.median([r["peak_rss_mb"] for r in rs])), 1),
                  "torch_imported": any(r["torch_imported"] for r in rs), "all_exit_0": all(r["exit"] == 0 for r in rs)}
    return {"question": COLD_QUESTION, "backends": out}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_json(url: str, body: Mapping[str, Any], timeout: float = 30.0) -> dict | None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode("utf-8")) if r.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _proc_status_mb(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def phase_app(cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    """``python -m policyqa.app`` on the built index: seconds from start to the
    first real answer over HTTP, and its memory after ``cfg.queries`` answers."""
    port = _free_port()
    env = dict(os.environ, POLICYQA_HOME=str(workdir / "home"), POLICYQA_EMBEDDING_BACKEND=cfg.backend,
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if cfg.model != "default":
        env["POLICYQA_EMBEDDING_MODEL"] = cfg.model
    url = f"http://127.0.0.1:{port}/api/ask"
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.app", "--port", str(port), "--index", str(workdir / "builtin-index")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first_s = None
    try:
        deadline = t + 300
        while time.perf_counter() < deadline and proc.poll() is None:
            r = _post_json(url, {"question": COLD_QUESTION}, timeout=60)
            if r and r.get("answer"):
                first_s = time.perf_counter() - t
                break
            time.sleep(0.1)
        if first_s is None:
            err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] if proc.poll() is not None else []
            raise RuntimeError(f"the app gave no answer within 300 s{': ' + err[0] if err else ''}")
        after_first = _proc_status_mb(proc.pid)
        qs = load_queries(cfg.queries)
        lat = _timed(lambda q: _post_json(url, {"question": q}), qs)
        mem = _proc_status_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"first_answer_s": round(first_s, 2), "rss_after_first_mb": after_first.get("VmRSS"),
            "rss_mb": mem.get("VmRSS"), "peak_rss_mb_app": mem.get("VmHWM"), "http_answers": latency_stats(lat)}


PHASES: dict[str, Callable[..., dict]] = {
    "builtin_build": phase_builtin_build,
    "builtin_query": phase_builtin_query,
    "sample": phase_sample,
    "synth_build": phase_synth_build,
    "synth_query": phase_synth_query,
    "ann": phase_ann,
    "cold_start": phase_cold_start,
    "backends": phase_backends,
    "answers": phase_answers,
    "cli": phase_cli,
    "app": phase_app,
}


def _real_embedder(cfg: BenchConfig) -> Callable[[], Any]:
    def make():
        from policyqa.index.embeddings import load_embedder

        return load_embedder(cfg.model, cfg.backend)

    return make


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not available
        return None


def _run_in_process(name: str, cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers) -> dict:
    rss0, load0 = current_rss_mb(), _loadavg()
    res = PHASES[name](cfg, workdir, ctx, make)
    res["rss_start_mb"] = rss0
    res["peak_rss_mb"] = peak_rss_mb()
    res["loadavg_1min"] = [load0, _loadavg()]  # machine load at start and end (other processes compete)
    return res


def _run_phase(name: str, cfg: BenchConfig, workdir: Path, ctx: dict, make: Makers | None = None, log=None) -> dict:
    """Run one phase, in a fresh process when ``cfg.isolate`` and nothing is injected."""
    t = time.perf_counter()
    if log:
        log(f"[bench] {name} ...")
    if make is not None or not cfg.isolate:
        res = _run_in_process(name, cfg, workdir, ctx, make or Makers(_real_embedder(cfg), _jieba))
        res["isolated"] = False
    else:
        spec = workdir / f"phase-{name}.json"
        result = workdir / f"phase-{name}.result.json"
        spec.write_text(json.dumps({"config": cfg.to_dict(), "ctx": ctx}, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        if cfg.omp_wait_policy:
            env["OMP_WAIT_POLICY"] = cfg.omp_wait_policy.upper()
        proc = subprocess.run(
            [sys.executable, "-m", "policyqa.eval.bench", "--phase", name, "--phase-spec", str(spec),
             "--phase-out", str(result), "--workdir", str(workdir)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        if proc.returncode != 0 or not result.is_file():
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"benchmark phase {name!r} failed (exit {proc.returncode}): {tail[0]}")
        res = json.loads(result.read_text(encoding="utf-8"))
        res["isolated"] = True
    res["wall_s"] = round(time.perf_counter() - t, 3)
    if log:
        log(f"[bench] {name} done in {res['wall_s']:.1f} s, peak RSS {res['peak_rss_mb']:.0f} MiB")
    return res


def _phase_main(name: str, spec_path: Path, out_path: Path, workdir: Path) -> int:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    cfg = BenchConfig.from_dict(spec["config"])
    res = _run_in_process(name, cfg, workdir, spec.get("ctx") or {}, Makers(_real_embedder(cfg), _jieba))
    out_path.write_text(json.dumps(res, ensure_ascii=False), encoding="utf-8")
    return 0


# --- the whole benchmark -----------------------------------------------------------


def run_bench(
    cfg: BenchConfig,
    workdir: str | Path | None = None,
    make_embedder: Callable[[], Any] | None = None,
    log: Callable[[str], None] | None = None,
    make_tokenizer: Callable[[], Any] | None = None,
) -> dict:
    """Run every phase and return the results (see the module doc).

    Args:
        cfg: what to measure.
        workdir: where indexes are built (kept); default a temporary
            directory, deleted afterwards.
        make_embedder: zero-argument factory of the embedder; default the
            real model (``cfg.model``/``cfg.backend``).
        make_tokenizer: factory of the BM25 tokenizer; default jieba.
            Anything injected runs every phase in this process (no per-phase
            memory isolation).
    """
    injected = make_embedder is not None or make_tokenizer is not None
    make = Makers(make_embedder or _real_embedder(cfg), make_tokenizer or _jieba) if injected else None
    tmp = None
    if workdir is None:
        tmp = tempfile.mkdtemp(prefix="policyqa-bench-")
        wd = Path(tmp)
    else:
        wd = Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        run = lambda name, ctx=None: _run_phase(name, cfg, wd, ctx or {}, make, log)  # noqa: E731
        builtin: dict[str, Any] = {"build": run("builtin_build")}
        builtin["query"] = run("builtin_query")
        if not injected and cfg.compare_backends:
            builtin["backends"] = run("backends")
        builtin["answers"] = run("answers")
        if not injected and cfg.cli_runs > 0:
            builtin["cli"] = run("cli")
        if not injected and cfg.app:
            builtin["app"] = run("app")
        sample = run("sample")
        synth: dict[str, Any] = {"sample": sample}
        synth["build"] = run("synth_build", {"embedding": sample["embedding"],
                                             "extrapolated_embed_s": sample["extrapolated_embed_s"]})
        synth["query"] = run("synth_query")
        synth["ann"] = run("ann")
        if cfg.cold_start:
            builtin["cold_start"] = run("cold_start", {"index": "builtin-index", "injected": injected})
            synth["cold_start"] = run("cold_start", {"index": "synthetic-index", "injected": injected})
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "config": cfg.to_dict(),
        "machine": machine_info(),
        "env": {"OMP_WAIT_POLICY": cfg.omp_wait_policy or os.environ.get("OMP_WAIT_POLICY"),
                **{k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}},
        "embedder": "injected" if make_embedder is not None else f"{cfg.model} ({cfg.backend})",
        "tokenizer": "injected" if make_tokenizer is not None else "jieba",
        "workdir": None if tmp else str(wd),
        "total_s": round(time.perf_counter() - t0, 1),
        "builtin": builtin,
        "synthetic": synth,
    }


# --- report ------------------------------------------------------------------------


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MiB"


def _lat_row(label: str, q: Mapping[str, Any]) -> list[str]:
    cells = [label]
    for key in ("bm25", "dense", "dense_encode", "dense_search", "hybrid"):
        s = q[key]
        cells.append(f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}")
    return cells


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _omp(result: Mapping[str, Any]) -> str:
    return (result.get("env") or {}).get("OMP_WAIT_POLICY") or "unset"


def _load_range(result: Mapping[str, Any]) -> tuple[float, float] | None:
    loads = []
    for corpus in ("builtin", "synthetic"):
        for phase in result[corpus].values():
            if isinstance(phase, Mapping):
                loads += [x for x in (phase.get("loadavg_1min") or []) if x is not None]
    return (min(loads), max(loads)) if loads else None


def _comparison(result: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """Key numbers of two runs side by side (e.g. OMP_WAIT_POLICY unset vs PASSIVE)."""

    def metrics(r: Mapping[str, Any]) -> list[tuple[str, str]]:
        b, s = r["builtin"], r["synthetic"]
        n = s["build"]["n_chunks"]
        rows = [
            ("synthetic chunks", f"{n:,}"),
            ("embedding, chunks/s (built-in build / synthetic sample)",
             f"{b['build']['embed_chunks_per_s']:.1f} / {s['sample']['embed_chunks_per_s']:.1f}"),
            ("query encoding p50, ms (built-in / synthetic run)",
             f"{b['query']['dense_encode']['p50_ms']:.0f} / {s['query']['dense_encode']['p50_ms']:.0f}"),
            ("dense p50, ms (built-in / synthetic)", f"{b['query']['dense']['p50_ms']:.0f} / {s['query']['dense']['p50_ms']:.0f}"),
            ("hybrid p50, ms (built-in / synthetic)", f"{b['query']['hybrid']['p50_ms']:.0f} / {s['query']['hybrid']['p50_ms']:.0f}"),
            ("BM25 p50, ms (built-in / synthetic)", f"{b['query']['bm25']['p50_ms']:.1f} / {s['query']['bm25']['p50_ms']:.1f}"),
        ]
        if "cold_start" in b:
            rows.append(("cold start total, s (built-in / synthetic)",
                         f"{b['cold_start']['total_s']:.1f} / {s['cold_start']['total_s']:.1f}"))
        lr = _load_range(r)
        rows.append(("1-min load average during the run", f"{lr[0]:.1f}–{lr[1]:.1f}" if lr else "?"))
        return rows

    mine, theirs = metrics(result), dict(metrics(other))
    return [
        "## Comparison with another run",
        "",
        f"The same benchmark with OMP_WAIT_POLICY {_omp(other)} (`{other.get('command', '')}`).",
        "torch and faiss-cpu each bundle their own libgomp (OpenMP); with the default wait policy idle OpenMP",
        "threads keep spinning after each call, and on 2 cores (shared with other processes) the two thread",
        "pools and the other processes starve each other.  The background load differed between the two runs",
        "(last row), so read the table for its order of magnitude.",
        "",
        _table(["metric", f"OMP_WAIT_POLICY {_omp(result)} (this report)", f"OMP_WAIT_POLICY {_omp(other)}"],
               [[label, value, theirs.get(label, "?")] for label, value in mine]),
        "",
    ]


def render_markdown(result: Mapping[str, Any], command: str = "", compare: Mapping[str, Any] | None = None) -> str:
    """The Markdown report of a :func:`run_bench` result (``compare``: another run to set beside it)."""
    cfg, m = result["config"], result["machine"]
    b, s = result["builtin"], result["synthetic"]
    bb, sb, sm = b["build"], s["build"], s["sample"]
    n_syn = sb["n_chunks"]
    emb = bb["embedding"]
    v = m.get("versions") or {}
    lr = _load_range(result)
    load_note = (f"1-minute load average during the phases: {lr[0]:.1f}–{lr[1]:.1f} on {m['nproc']} cores"
                 + (" (other processes were competing for the CPU, so times are pessimistic)." if lr[1] > 0.5 * m["nproc"] + 1 else ".")
                 if lr else "")
    omp = (result.get("env") or {}).get("OMP_WAIT_POLICY") or "unset (libgomp default)"
    out = [
        "# Index benchmark",
        "",
        "Build throughput, query latency, memory, disk size, approximate-vs-exact recall and cold start of",
        f"the index, on the built-in knowledge base ({bb['n_chunks']} chunks) and on a synthetic corpus of",
        f"{n_syn:,} chunks generated from it.  Produced by `policyqa.eval.bench` ({cfg['mode']} mode).",
        "",
        f"**Command:** `{command or result.get('command', '')}`",
        "",
        f"**Machine:** {m['nproc']} CPU cores ({m['cpu_model']}), {m['ram_gb']} GB RAM, no GPU; "
        f"Python {m['python']}, torch {v.get('torch')}, faiss {v.get('faiss')}, bm25s {v.get('bm25s')}.  ",
        f"**Embedding model:** {emb['model']} ({emb['backend']}, {emb['dim']}-d), batch size 32.  ",
        f"**OMP_WAIT_POLICY:** {omp}.  **Total benchmark time:** {result['total_s']:.0f} s.  ",
        load_note,
        "",
        "## What is real and what is extrapolated",
        "",
        f"* Built-in corpus: everything is measured for real, including embedding all {bb['n_chunks']} chunks with the model.",
        f"* Synthetic corpus: {n_syn:,} distinct chunks (mean {sm['mean_chars']:.0f} characters incl. header) made by",
        "  recombining sentences of the real chunks with varied numbers, years, places and clause ordinals",
        f"  (`synthetic_corpus`), in {sb['n_docs']:,} documents.  **Only {sm['sample']} of them were embedded with the",
        f"  real model**; their throughput ({sm['embed_chunks_per_s']:.1f} chunks/s) is **extrapolated** to the whole corpus",
        f"  ({sm['extrapolated_embed_s'] / 60:.1f} min).  The other vectors are synthetic (`synthetic_vectors`: mixtures of two",
        "  real sample vectors + Gaussian noise, unit-normalised), so FAISS and BM25 build time, memory, disk size, query",
        "  latency and ANN recall are **measured** on a real index of that size.  Query vectors are always encoded by",
        "  the real model from the team question set.",
        f"* Latencies: {cfg['queries']} queries ({b['query']['n_unique_queries']} distinct questions from",
        "  `eval/questions/team.jsonl`, cycled), one at a time, top-10, after one warm-up query per mode.",
        "  bm25/dense/hybrid are end to end through `HybridRetriever.search`; dense = query encoding + FAISS search.",
        "* Peak RSS is `ru_maxrss` of a fresh process per phase (interpreter, libraries and model included).",
        "",
        "## Build",
        "",
        _table(
            ["corpus", "chunks", "build time", "chunks/s", "of which embedding", "tokenize (jieba)", "FAISS kind", "index on disk", "peak RSS"],
            [
                ["built-in (measured)", bb["n_chunks"], f"{bb['build_s']:.1f} s", f"{bb['build_chunks_per_s']:.1f}",
                 f"{bb['embed_s']:.1f} s ({bb['embed_chunks_per_s']:.1f} chunks/s)", f"{bb['tokenize_s']:.2f} s",
                 bb["dense_kind"], _mb(bb["index_bytes"]), f"{bb['peak_rss_mb']:.0f} MiB"],
                [f"synthetic {n_syn:,}, measured without embedding", n_syn, f"{sb['build_without_embedding_s']:.1f} s",
                 f"{sb['build_chunks_per_s_without_embedding']:.0f}", "precomputed", f"{sb['tokenize_s']:.1f} s",
                 sb["dense_kind"], _mb(sb["index_bytes"]), f"{sb['peak_rss_mb']:.0f} MiB"],
                [f"synthetic {n_syn:,}, **extrapolated** with the model", n_syn,
                 f"{sb['estimated_build_with_model_s'] / 60:.0f} min", f"{sb['estimated_build_chunks_per_s']:.1f}",
                 f"{sb['extrapolated_embed_s'] / 60:.0f} min (extrapolated)", f"{sb['tokenize_s']:.1f} s", sb["dense_kind"],
                 "same", f"{sm['peak_rss_mb']:.0f} MiB (embedding sample)"],
            ],
        ),
        "",
        f"Model load: {bb['model_load_s']:.1f} s.  Embedding sample: {sm['sample']} synthetic chunks in {sm['embed_s']:.1f} s "
        f"({sm['embed_chunks_per_s']:.1f} chunks/s, peak RSS {sm['peak_rss_mb']:.0f} MiB).  Synthetic corpus generation: "
        f"{sm['generate_s']:.1f} s.  Synthetic index files: "
        + ", ".join(f"{k} {_mb(v)}" for k, v in sb["index_files_bytes"].items()) + ".",
        "",
        "## Query latency (ms, p50 / p95)",
        "",
        _table(
            ["corpus", "BM25", "dense (encode + search)", "query encoding", "FAISS search", "hybrid (RRF)", "index load", "peak RSS"],
            [
                _lat_row(f"built-in ({bb['n_chunks']})", b["query"]) + [f"{b['query']['load_s']:.2f} s", f"{b['query']['peak_rss_mb']:.0f} MiB"],
                _lat_row(f"synthetic ({n_syn:,}, FAISS {s['query']['dense_kind']})", s["query"])
                + [f"{s['query']['load_s']:.2f} s", f"{s['query']['peak_rss_mb']:.0f} MiB"],
            ],
        ),
        "",
        f"Hybrid retrieves {b['query']['retrieval']['candidates']} candidates from each retriever before fusion.",
        "",
    ]
    ann = s["ann"]
    out += [
        f"## Approximate vs exact search ({ann['n_vectors']:,} vectors, {ann['dim']}-d)",
        "",
        f"Recall@{ann['k']} against exact inner-product search (`flat`), {ann['n_queries']} real query vectors; latency is one",
        f"`DenseIndex.search` call (k={ann['k']}) with FAISS's default {ann['results'][0].get('threads', '?')} OpenMP threads,",
        f"and with `faiss.omp_set_num_threads(1)`.  Peak RSS of this phase: {ann['peak_rss_mb']:.0f} MiB.",
        "Recall depends on how the vectors are distributed: these are the synthetic vectors (noisy mixtures",
        f"around {sm['sample']} real passage vectors), so 100k real passages may give somewhat different recall.",
        "",
        _table(
            ["index", "parameters", "build", "FAISS file", f"recall@{ann['k']}", "p50 / p95 ms", "p50 / p95 ms, 1 thread"],
            [[r["kind"], r["param"] or "exact", f"{r['build_s']:.1f} s", _mb(r["faiss_bytes"]), f"{r['recall']:.3f}",
              f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f}", f"{r['p50_ms_1thread']:.2f} / {r['p95_ms_1thread']:.2f}"]
             for r in ann["results"]],
        ),
        "",
    ]
    dflt = ann.get("defaults")
    if dflt:
        row = next((r for r in ann["results"] if r["param"].endswith(f"efSearch={dflt['ef_search']}")), None)
        flat = ann["results"][0]
        if row:
            out += [
                f"`DenseIndex` defaults: `kind=\"auto\"` switches from exact flat to HNSW (M={dflt['hnsw_m']}, efSearch="
                f"{dflt['ef_search']}) at {dflt['approx_threshold']:,} vectors; here that gives recall@{ann['k']} "
                f"{row['recall']:.3f} at {row['p50_ms']:.2f} ms p50 versus {flat['p50_ms']:.2f} ms for exact search.",
                "",
            ]
    if "cold_start" in b:
        rows = []
        for label, c in ((f"built-in ({bb['n_chunks']})", b["cold_start"]), (f"synthetic ({n_syn:,})", s["cold_start"])):
            ok = "yes" if c["total_s"] <= COLD_START_GOAL_S else "**no**"
            rows.append([label, f"{c['import_s']:.2f} s", f"{c['open_s']:.2f} s", f"{c['first_answer_s']:.2f} s",
                         f"{c['second_answer_s']:.2f} s", f"**{c['total_s']:.2f} s**", ok, f"{c['peak_rss_mb']:.0f} MiB"])
        out += [
            "## Cold start",
            "",
            f"A fresh process imports `policyqa.qa.service`, calls `{b['cold_start']['method']}` on the already built index",
            f"and answers「{COLD_QUESTION}」.  The embedding model loads in a background thread from `open` on.",
            f"Goal: ≤ {COLD_START_GOAL_S:.0f} s for imports + open + first answer (the \"total\" column).",
            f"(Loading the model took {bb['model_load_s']:.1f} s in the build phase.)",
            "The OS file cache was warm (index and model files had just been written/read); a first start after",
            "a reboot reads them from disk and is slower.",
            "",
            _table(["index", "imports", "open", "first answer", "second answer", "total", f"≤ {COLD_START_GOAL_S:.0f} s", "peak RSS"], rows),
            "",
        ]
    at = out.index("## What is real and what is extrapolated")
    out[at:at] = _speed_sections(result)  # the targets first
    if compare:
        out += _comparison(result, compare)
    return "\n".join(out)


# Targets of issue 14 (see README "Speed and size").
TARGETS = {"build_speedup": 2.0, "query_p50_ms": 10.0, "answer_p50_builtin_ms": 25.0, "answer_p50_ncp_ms": 40.0,
           "ask_wall_s": 2.0, "app_first_answer_s": 5.0, "serving_rss_mb": 800.0}


def _ok(value: float | None, goal: float, higher: bool = False) -> str:
    if value is None:
        return "–"
    return "yes" if (value >= goal if higher else value <= goal) else "**no**"


def targets(result: Mapping[str, Any]) -> list[list[str]]:
    """(target, measured, met) rows for what this run measured."""
    b, s = result["builtin"], result["synthetic"]
    backend = result["config"]["backend"]
    rows = []
    be = b.get("backends")
    if be:
        ref = be["reference"]
        mine = next((r for r in be["backends"] if r["backend"] == backend), None)
        if mine and ref != backend:
            x = mine[f"speedup_vs_{ref}"]
            rows.append([f"build throughput ≥ {TARGETS['build_speedup']:.0f}× {ref} fp32 (side by side, embedding the built-in chunks)",
                         f"{x:.2f}× ({mine['chunks_per_s']:.1f} vs {mine['chunks_per_s'] / x:.1f} chunks/s)",
                         _ok(x, TARGETS["build_speedup"], higher=True)])
        if mine:
            rows.append([f"query embedding p50 ≤ {TARGETS['query_p50_ms']:.0f} ms", f"{mine['query_p50_ms']:.1f} ms",
                         _ok(mine["query_p50_ms"], TARGETS["query_p50_ms"])])
    c = s["sample"].get("cache")
    if c:
        rows.append(["rebuild through the embedding cache (all texts cached / 10% changed)",
                     f"{c['warm_chunks_per_s']:,.0f} / {c['changed_chunks_per_s']:,.0f} chunks/s", "–"])
    a = b.get("answers") or {}
    if "builtin" in a:
        rows.append([f"answer p50 ≤ {TARGETS['answer_p50_builtin_ms']:.0f} ms, built-in knowledge base",
                     f"{a['builtin']['p50_ms']:.1f} ms", _ok(a["builtin"]["p50_ms"], TARGETS["answer_p50_builtin_ms"])])
    if "ncp" in a:
        rows.append([f"answer p50 ≤ {TARGETS['answer_p50_ncp_ms']:.0f} ms, NCP ({a['ncp']['n_chunks']:,} chunks)",
                     f"{a['ncp']['p50_ms']:.1f} ms", _ok(a["ncp"]["p50_ms"], TARGETS["answer_p50_ncp_ms"])])
    cli = (b.get("cli") or {}).get("backends") or {}
    if backend in cli:
        r = cli[backend]
        other = f" (torch: {cli['torch']['wall_s_median']:.1f} s)" if "torch" in cli else ""
        rows.append([f"`policyqa ask` in a fresh process ≤ {TARGETS['ask_wall_s']:.0f} s wall",
                     f"{r['wall_s_median']:.2f} s median of {len(r['runs'])}{other}; torch imported: {'yes' if r['torch_imported'] else 'no'}",
                     _ok(r["wall_s_median"], TARGETS["ask_wall_s"])])
    app = b.get("app")
    if app:
        rows.append([f"app start to first real answer ≤ {TARGETS['app_first_answer_s']:.0f} s", f"{app['first_answer_s']:.1f} s",
                     _ok(app["first_answer_s"], TARGETS["app_first_answer_s"])])
        rows.append([f"RSS serving the built-in knowledge base ≤ {TARGETS['serving_rss_mb']:.0f} MB",
                     f"{app['rss_mb']:.0f} MiB (peak {app['peak_rss_mb_app']:.0f} MiB)",
                     _ok(app["peak_rss_mb_app"], TARGETS["serving_rss_mb"] / 1.048576)])
    return rows


def _speed_sections(result: Mapping[str, Any]) -> list[str]:
    b, s = result["builtin"], result["synthetic"]
    out: list[str] = []
    rows = targets(result)
    if rows:
        out += ["## Targets (issue 14)", "", _table(["target", "measured", "met"], rows), ""]
    be = b.get("backends")
    if be:
        ref = be["reference"]
        out += [
            "## Embedding backends side by side",
            "",
            f"One process, the same {be['n_chunks']} built-in chunks (mean {be['mean_chars']:.0f} characters) and "
            f"{be['n_queries']} single questions per backend, {be['rounds']} interleaved rounds (median kept), so the",
            "ratios hold even when other processes share the CPU.  Cosine: against the reference backend's vectors.",
            "",
            _table(["backend", "document vectors", "load", "chunks/s", f"× {ref}", "query p50", f"query × {ref}",
                    "cos passages min / mean", "cos queries min"],
                   [[r["backend"], r["space"], f"{r['load_s']:.1f} s", f"{r['chunks_per_s']:.1f}", f"{r[f'speedup_vs_{ref}']:.2f}",
                     f"{r['query_p50_ms']:.1f} ms", f"{r[f'query_speedup_vs_{ref}']:.1f}",
                     f"{r['cos_passages_min']:.4f} / {r['cos_passages_mean']:.4f}" if "cos_passages_min" in r else "(reference)",
                     f"{r['cos_queries_min']:.4f}" if "cos_queries_min" in r else ""] for r in be["backends"]]),
            "",
        ]
    c = s["sample"].get("cache")
    if c:
        sm = s["sample"]
        out += [
            "## Embedding cache",
            "",
            f"The {sm['sample']:,} sample chunks embedded through a fresh embedding cache (as builds are), then again",
            "(every text cached: what a rebuild of an unchanged corpus costs) and with every tenth text changed:",
            "",
            _table(["pass", "chunks embedded", "time", "chunks/s"],
                   [["cold (all new)", f"{sm['sample']:,}", f"{c['cold_s']:.1f} s", f"{sm['embed_chunks_per_s']:.1f}"],
                    ["rebuild, all cached", "0", f"{c['warm_s']:.2f} s", f"{c['warm_chunks_per_s']:,.0f}"],
                    ["rebuild, 10% changed", f"{c['changed']:,}", f"{c['changed_s']:.1f} s", f"{c['changed_chunks_per_s']:,.0f}"]]),
            "",
            f"Cached vectors are bit-identical to the first pass: {'yes' if c['warm_identical'] else 'no'}.",
            "",
        ]
    a = b.get("answers")
    if a:
        rows = [[f"built-in ({b['build']['n_chunks']} chunks), team questions", a["builtin"]["n"],
                 f"{a['builtin']['p50_ms']:.1f} / {a['builtin']['p95_ms']:.1f}", ""]]
        if "ncp" in a:
            n = a["ncp"]
            rows.append([f"NCP ({n['n_docs']} documents, {n['n_chunks']:,} chunks), NCP questions", n["n"],
                         f"{n['p50_ms']:.1f} / {n['p95_ms']:.1f}",
                         f"{n['build_s']:.0f} s ({n['build_chunks_per_s']:.1f} chunks/s; {n.get('embedded', '?')} embedded, "
                         f"{n.get('cached', 0)} from the embedding cache)"])
        out += ["## Answers", "", "`KnowledgeBase.answer` end to end (retrieval + composition), warm, one question at a time.", "",
                _table(["knowledge base", "questions", "p50 / p95 ms", "index build (measured)"], rows), ""]
    cli, app = b.get("cli"), b.get("app")
    if cli or app:
        out += ["## Fresh processes", ""]
        if cli:
            out += [f"`policyqa ask \"{cli['question']}\"` on the built index in a new Python process (what a script calling",
                    "the CLI per question pays), runs interleaved across backends:", "",
                    _table(["backend", "wall, median", "wall, runs", "peak RSS", "torch imported"],
                           [[bk, f"{r['wall_s_median']:.2f} s", ", ".join(f"{x['wall_s']:.2f}" for x in r["runs"]),
                             f"{r['peak_rss_mb_median']:.0f} MiB", "yes" if r["torch_imported"] else "no"]
                            for bk, r in cli["backends"].items()]), ""]
        if app:
            h = app["http_answers"]
            out += [f"`python -m policyqa.app` on the built index: first real answer over HTTP {app['first_answer_s']:.1f} s after",
                    f"the process started; after {h['n']} more answers (p50 {h['p50_ms']:.0f} ms over HTTP) its RSS is "
                    f"{app['rss_mb']:.0f} MiB (peak {app['peak_rss_mb_app']:.0f} MiB).", ""]
    return out


# --- command line ------------------------------------------------------------------


def build_parser(prog: str = "policyqa bench") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark index build throughput, query latency, memory, disk size, ANN recall and cold start "
        "on the built-in corpus and a synthetic corpus generated from it.",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10,000 synthetic chunks, 200-chunk embedding sample, 30 queries (default; a few minutes)")
    size.add_argument("--full", action="store_true", help="100,000 synthetic chunks of which 20,000 embedded for real, 200 queries "
                      "(about 30 min on 2 idle cores); writes docs/benchmark.md")
    p.add_argument("--synthetic", type=int, metavar="N", help="synthetic corpus size (overrides the mode)")
    p.add_argument("--sample", type=int, metavar="N", help="synthetic chunks embedded with the real model")
    p.add_argument("--queries", type=int, metavar="N", help="queries per latency measurement")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus and vectors (default 0)")
    p.add_argument("--model", default="default", help="embedding model (default: the bundled multilingual-e5-small)")
    from policyqa.index.embeddings import BACKENDS, DEFAULT_BACKEND

    p.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKENDS,
                   help=f"embedding backend of the indexes (default {DEFAULT_BACKEND})")
    p.add_argument("--compare-backends", default="torch,onnx,onnx-int8", metavar="LIST",
                   help="backends measured side by side, interleaved, in one process ('none' to skip; default %(default)s)")
    p.add_argument("--ncp", metavar="DIR", help="NCP set folder (corpus.jsonl, dev.jsonl): build its index and time answers on it")
    p.add_argument("--cli-runs", type=int, metavar="N", help="fresh `policyqa ask` processes per backend (0 = skip)")
    p.add_argument("--no-app", action="store_true", help="skip timing the web app's start")
    p.add_argument("--embed-cache", metavar="FILE", help="embedding cache for the NCP build (default: a fresh one: embed everything)")
    p.add_argument("--out", default=str(DEFAULT_JSON), help=f"JSON results (default {DEFAULT_JSON})")
    p.add_argument("--doc", help=f"Markdown report (default: {FULL_DOC.relative_to(ROOT)} with --full, else {QUICK_DOC})")
    p.add_argument("--workdir", help="build the indexes here and keep them (default: a temporary directory)")
    p.add_argument("--no-isolate", action="store_true", help="run all phases in this process (peak RSS is then cumulative)")
    p.add_argument("--no-cold-start", action="store_true", help="skip the cold-start measurement")
    p.add_argument("--omp-wait-policy", default="", type=str.upper, choices=("ACTIVE", "PASSIVE"),
                   help="set OMP_WAIT_POLICY in the phase processes (default: inherit)")
    p.add_argument("--from-json", metavar="PATH", help="do not measure: re-render the Markdown report (--doc) from a saved JSON result")
    p.add_argument("--compare-json", metavar="PATH", help="add a table comparing key numbers with this saved JSON result")
    p.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    p.add_argument("--phase-spec", help=argparse.SUPPRESS)
    p.add_argument("--phase-out", help=argparse.SUPPRESS)
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    base = FULL if args.full else QUICK
    compare = () if args.compare_backends.strip().lower() in ("", "none") else tuple(
        b.strip() for b in args.compare_backends.split(",") if b.strip())
    from policyqa.index.embeddings import BACKENDS

    unknown = [b for b in compare if b not in BACKENDS]
    if unknown:
        raise ValueError(f"--compare-backends: unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    over: dict[str, Any] = {"seed": args.seed, "model": args.model, "backend": args.backend,
                            "isolate": not args.no_isolate, "cold_start": not args.no_cold_start,
                            "omp_wait_policy": args.omp_wait_policy, "compare_backends": compare,
                            "ncp": str(Path(args.ncp).resolve()) if args.ncp else "", "app": not args.no_app,
                            "embed_cache": str(Path(args.embed_cache).resolve()) if args.embed_cache else ""}
    if args.cli_runs is not None:
        over["cli_runs"] = args.cli_runs
    if args.synthetic is not None:
        over["n_synthetic"] = args.synthetic
        over["sample"] = min(base.sample, args.synthetic) if args.sample is None else args.sample
    if args.sample is not None:
        over["sample"] = args.sample
    if args.queries is not None:
        over["queries"] = args.queries
    if args.synthetic is not None or args.sample is not None or args.queries is not None:
        over["mode"] = "custom"
    return replace(base, **over)


def main(argv: Sequence[str] | None = None, prog: str = "policyqa bench") -> int:
    parser = build_parser(prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.phase:
        if not (args.phase_spec and args.phase_out and args.workdir):
            parser.error("--phase needs --phase-spec, --phase-out and --workdir")
        return _phase_main(args.phase, Path(args.phase_spec), Path(args.phase_out), Path(args.workdir))
    compare = None
    if args.compare_json:
        try:
            compare = json.loads(Path(args.compare_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"bench: cannot read {args.compare_json}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    if args.from_json:
        try:
            saved = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
            md = render_markdown(saved, saved.get("command", ""), compare)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"bench: cannot render {args.from_json}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        doc = Path(args.doc) if args.doc else (FULL_DOC if saved["config"].get("mode") == "full" else QUICK_DOC)
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(md + "\n", encoding="utf-8")
        print(f"report: {doc}", file=sys.stderr)
        return 0
    try:
        cfg = config_from_args(args)
    except ValueError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    command = " ".join([prog, *argv])
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    try:
        result = run_bench(cfg, args.workdir, log=log)
    except (RuntimeError, OSError, ValueError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    result = {"command": command, **result}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    doc = Path(args.doc) if args.doc else (FULL_DOC if cfg.mode == "full" else QUICK_DOC)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render_markdown(result, command, compare) + "\n", encoding="utf-8")
    log(f"[bench] results: {out}; report: {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m policyqa.eval.bench"))
