"""Load test of a running app's HTTP API (loopback only).

    python -m policyqa.eval.load --url http://127.0.0.1:7860 [--conversations 50] [--duration 60]

Each of ``--conversations`` concurrent clients runs conversations one after
another until ``--duration`` seconds have passed or ``--max-requests`` asks
were sent: each conversation asks 2-3 questions with the history of its
earlier turns (so follow-ups are resolved) and posts feedback once.
Reported: errors (must be zero), feedback lines lost (lines in the feedback
file after minus before, against the number posted), p50/p95/max latency of
``/api/ask`` and throughput.  Writes a JSON and a Markdown report.

Only loopback targets (127.0.0.0/8, localhost, ::1) are accepted.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

SCENARIOS: tuple[tuple[str, ...], ...] = (
    ("评上国家级专精特新小巨人，宿迁给多少钱？", "那省级的呢？"),
    ("亭湖区企业买工业机器人有补贴吗", "那软件呢？", "申报省级示范智能车间需要什么条件"),
    ("漯河小升规企业第一年奖励多少", "第四年呢？"),
    ("宿州评上小巨人奖多少", "那省级的呢？", "火星移民签证怎么办理"),
    ("徐州专精特新企业培育的牵头单位是谁", "那宿迁呢？"),
    ("申报省级示范智能车间需要什么条件", "那智能工厂呢？", "宿州评上小巨人奖多少"),
)
ASK_KEYS = {"question", "resolved_question", "answer", "answer_markdown", "refused", "region_note", "citations", "timings_ms"}


def loopback_only(url: str) -> tuple[str, int]:
    """(host, port) of ``url``; raises ValueError unless it is a loopback http address."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"--url must be http://HOST:PORT on this machine, got {url!r}")
    host = parts.hostname
    infos = {ai[4][0] for ai in socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)}
    if not infos or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in infos):
        raise ValueError(f"refusing to load-test {host}: only loopback addresses (127.0.0.0/8, ::1) are allowed")
    return host, parts.port or 80


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    feedback_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asks: int = 0
    feedback_posted: int = 0
    conversations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One keep-alive HTTP connection (reconnects after a failure)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", path, data, {"content-type": "application/json"})
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, json.loads(raw.decode("utf-8")) if raw else {}
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a stale keep-alive connection: retry once on a new one
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def conversation(client: Client, questions: Sequence[str], verdict: str, stats: Stats, budget) -> None:
    history: list[dict] = []
    last: dict | None = None
    for q in questions:
        if not budget():
            break
        t = time.perf_counter()
        try:
            status, body = client.post("/api/ask", {"question": q, "history": history})
        except Exception as e:  # network errors count as errors, never stop the run
            with stats.lock:
                stats.errors.append(f"ask {q!r}: {type(e).__name__}: {e}")
            client.close()
            return
        ms = (time.perf_counter() - t) * 1000
        with stats.lock:
            stats.asks += 1
            stats.latencies_ms.append(ms)
            if status != 200 or set(body) != ASK_KEYS:
                stats.errors.append(f"ask {q!r}: HTTP {status} {str(body)[:200]}")
                return
        history.append({"question": q, "answer": body["answer"], "resolved_question": body["resolved_question"]})
        last = body
    if last is None:
        return
    t = time.perf_counter()
    try:
        status, body = client.post("/api/feedback", {
            "question": last["question"], "resolved_question": last["resolved_question"], "answer": last["answer"],
            "citations": last["citations"], "verdict": verdict, "comment": "load test"})
    except Exception as e:
        with stats.lock:
            stats.errors.append(f"feedback: {type(e).__name__}: {e}")
        client.close()
        return
    with stats.lock:
        stats.feedback_ms.append((time.perf_counter() - t) * 1000)
        if status == 200:
            stats.feedback_posted += 1
            stats.conversations += 1
        else:
            stats.errors.append(f"feedback: HTTP {status} {str(body)[:200]}")


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def count_lines(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except FileNotFoundError:
        return 0


def get_json(host: str, port: int, path: str, timeout: float = 10) -> dict:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return json.loads(r.read().decode("utf-8"))
    finally:
        conn.close()


def run(url: str, conversations: int = 50, duration: float = 60.0, max_requests: int = 5000,
        timeout: float = 120.0, feedback_file: Path | None = None) -> dict:
    """Drive the app and return the report dict."""
    host, port = loopback_only(url)
    health = get_json(host, port, "/api/health")
    before = count_lines(feedback_file)
    stats = Stats()
    t0 = time.monotonic()
    deadline = t0 + duration
    sent = [0]
    sent_lock = threading.Lock()

    def budget() -> bool:
        with sent_lock:
            if time.monotonic() >= deadline or sent[0] >= max_requests:
                return False
            sent[0] += 1
            return True

    def worker(i: int) -> None:
        client = Client(host, port, timeout)
        n = 0
        try:
            while time.monotonic() < deadline and sent[0] < max_requests:
                scenario = SCENARIOS[(i + n) % len(SCENARIOS)]
                conversation(client, scenario, "up" if (i + n) % 3 else "down", stats, budget)
                n += 1
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), name=f"conv-{i}") for i in range(conversations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + timeout + 30)
    elapsed = time.monotonic() - t0
    after = count_lines(feedback_file)
    lost = None if before is None else stats.feedback_posted - (after - before)
    lat = stats.latencies_ms
    return {
        "url": url,
        "documents": health.get("documents"),
        "chunks": health.get("chunks"),
        "concurrent_conversations": conversations,
        "duration_s": round(elapsed, 1),
        "asks": stats.asks,
        "conversations_completed": stats.conversations,
        "errors": len(stats.errors),
        "error_samples": stats.errors[:10],
        "feedback_posted": stats.feedback_posted,
        "feedback_lines_before": before,
        "feedback_lines_after": after,
        "feedback_lines_lost": lost,
        "ask_latency_ms": {"p50": round(percentile(lat, 50), 1), "p95": round(percentile(lat, 95), 1),
                           "max": round(max(lat), 1) if lat else 0.0},
        "feedback_latency_ms": {"p50": round(percentile(stats.feedback_ms, 50), 1),
                                "p95": round(percentile(stats.feedback_ms, 95), 1)},
        "throughput_asks_per_s": round(stats.asks / elapsed, 2) if elapsed else 0.0,
        "zero_errors": not stats.errors,
        "threads_still_running": sum(t.is_alive() for t in threads),
    }


def markdown(r: dict, command: str) -> str:
    lost = "n/a (no --feedback-file)" if r["feedback_lines_lost"] is None else str(r["feedback_lines_lost"])
    rows = [
        ("concurrent conversations", r["concurrent_conversations"]),
        ("duration", f"{r['duration_s']} s"),
        ("asks (POST /api/ask)", r["asks"]),
        ("conversations completed (2-3 asks + feedback)", r["conversations_completed"]),
        ("errors", f"{r['errors']} ({'OK' if r['zero_errors'] else 'FAILED'})"),
        ("feedback posted / lines lost", f"{r['feedback_posted']} / {lost}"),
        ("ask latency p50", f"{r['ask_latency_ms']['p50']} ms"),
        ("ask latency p95", f"{r['ask_latency_ms']['p95']} ms"),
        ("ask latency max", f"{r['ask_latency_ms']['max']} ms"),
        ("throughput", f"{r['throughput_asks_per_s']} asks/s"),
    ]
    out = [f"# Load test: {r['url']} ({r['documents']} documents, {r['chunks']} chunks)", "", f"`{command}`", "",
           "| measure | value |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in rows]
    if r["error_samples"]:
        out += ["", "Errors (first 10):", ""] + [f"- {e}" for e in r["error_samples"]]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m policyqa.eval.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:7860", help="the running app (loopback only)")
    p.add_argument("--conversations", type=int, default=50, help="concurrent conversations (default 50)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds to run (default 60)")
    p.add_argument("--max-requests", type=int, default=5000, help="stop after this many asks (default 5000)")
    p.add_argument("--timeout", type=float, default=120.0, help="per-request timeout in seconds")
    p.add_argument("--feedback-file", help="the app's feedback.jsonl, to count lost lines "
                   "(default: $POLICYQA_HOME/feedback.jsonl)")
    p.add_argument("--out", default="artifacts/load", help="report path without extension (.json and .md written)")
    args = p.parse_args(argv)
    if not (1 <= args.conversations <= 500) or args.duration <= 0 or args.max_requests < 1:
        p.error("--conversations must be 1-500, --duration > 0, --max-requests >= 1")
    if args.feedback_file:
        fb = Path(args.feedback_file)
    else:
        from policyqa.settings import Settings

        fb = Settings.from_env().feedback_path
    try:
        report = run(args.url, args.conversations, args.duration, args.max_requests, args.timeout, fb)
    except ValueError as e:
        print(f"load: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"load: cannot reach {args.url}: {e}", file=sys.stderr)
        return 1
    report["feedback_file"] = str(fb)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python -m policyqa.eval.load " + " ".join(sys.argv[1:] if argv is None else argv)
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(report, command), encoding="utf-8")
    print(markdown(report, command))
    return 0 if report["zero_errors"] and not report["feedback_lines_lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
