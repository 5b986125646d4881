"""Feedback (👍/👎 and a comment) as JSON lines: bounded lines, a rotated log, nothing lost.

``FeedbackLog.append(record)`` writes one line to ``feedback.jsonl`` under a
lock, flushed and fsynced.  A line never exceeds ``max_line_bytes``: longer
fields are cut and listed in the line's ``"truncated"`` field.  When the file
passes ``max_file_bytes`` it is renamed to ``feedback-<UTC time>.jsonl`` and a
new one is started; rotated files are never deleted, and :meth:`export`
returns all lines, oldest first (the admin's download).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from policyqa.web.jsonbody import BadJSON

__all__ = ["FeedbackLog", "feedback_record", "parse_feedback", "cap_record", "VERDICTS",
           "MAX_COMMENT_CHARS", "MAX_LINE_BYTES", "MAX_FILE_BYTES"]

VERDICTS = ("up", "down")
MAX_COMMENT_CHARS = 2000
MAX_QUESTION_CHARS = 10_000
MAX_LINE_BYTES = 20_000
MAX_FILE_BYTES = 10_000_000
TRUNCATION_MARK = "…[截断]"


def feedback_record(question: str, resolved_question: str, answer: str, citations: list, verdict: str, comment: str) -> dict:
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "question": question,
        "resolved_question": resolved_question,
        "answer": answer,
        "citations": citations,
        "verdict": verdict,
        "comment": comment,
    }


def _line(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes (mark included)."""
    room = max(0, max_bytes - len(TRUNCATION_MARK.encode("utf-8")))
    return text.encode("utf-8")[:room].decode("utf-8", "ignore") + TRUNCATION_MARK


def cap_record(record: dict, max_bytes: int = MAX_LINE_BYTES) -> dict:
    """The record with its longest fields cut until its JSON line fits ``max_bytes``.

    Cut fields are listed in ``record["truncated"]``; citations are first
    reduced to their identifying keys, then dropped from the end.
    """
    rec = dict(record)
    cut: list[str] = []
    for k in ("answer", "question", "resolved_question", "comment"):  # cheap first cut of huge strings
        if isinstance(rec.get(k), str) and len(rec[k]) > max_bytes:
            rec[k] = rec[k][:max_bytes] + TRUNCATION_MARK
            cut.append(k)
    if not cut and len(_line(rec)) <= max_bytes:
        return rec
    cites = rec.get("citations")
    if isinstance(cites, list) and cites:
        keep = ("n", "doc_id", "chunk_id", "title")
        rec["citations"] = [{k: c[k] for k in keep if k in c} if isinstance(c, dict) else c for c in cites]
        cut.append("citations")
        while len(_line(rec)) > max_bytes and rec["citations"]:
            rec["citations"] = rec["citations"][:-1]
    for _ in range(20):
        rec["truncated"] = cut
        size = len(_line(rec))
        if size <= max_bytes:
            break
        strings = [(len(rec[k].encode("utf-8")), k) for k in ("answer", "question", "resolved_question", "comment")
                   if isinstance(rec.get(k), str)]
        if not strings:
            rec["citations"] = []
            continue
        longest, key = max(strings)
        rec[key] = _cut(rec[key].removesuffix(TRUNCATION_MARK), max(0, longest - (size - max_bytes) - 64))
        if key not in cut:
            cut.append(key)
    rec["truncated"] = cut
    return rec


def parse_feedback(body: Any) -> dict:
    """Validate a ``POST /api/feedback`` body; return the record to append (BadJSON on bad input)."""
    if not isinstance(body, dict):
        raise BadJSON("body must be a JSON object")
    allowed = {"question", "resolved_question", "answer", "citations", "verdict", "comment"}
    extra = sorted(set(body) - allowed)
    if extra:
        raise BadJSON(f"unknown field(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    q = body.get("question")
    if not isinstance(q, str) or not q.strip() or len(q) > MAX_QUESTION_CHARS:
        raise BadJSON("'question' must be a non-empty string")
    verdict = body.get("verdict")
    if verdict not in VERDICTS:
        raise BadJSON("'verdict' must be \"up\" or \"down\"")
    for k in ("resolved_question", "answer", "comment"):
        if not isinstance(body.get(k, ""), str):
            raise BadJSON(f"'{k}' must be a string")
    comment = body.get("comment", "")
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadJSON(f"'comment' is longer than {MAX_COMMENT_CHARS} characters")
    cites = body.get("citations", [])
    if not isinstance(cites, list) or len(cites) > 50:
        raise BadJSON("'citations' must be a list of at most 50 items")
    return feedback_record(q, body.get("resolved_question", ""), body.get("answer", ""), cites, verdict, comment)


class FeedbackLog:
    """Appends one bounded JSON line per feedback to ``path``; thread-safe, flushed and fsynced.

    Args:
        path: the current log file (``$POLICYQA_HOME/feedback.jsonl``).
        max_line_bytes: cap of one line (longer fields are cut and marked).
        max_file_bytes: rotate when the file would grow past this.
    """

    def __init__(self, path: str | os.PathLike, max_line_bytes: int = MAX_LINE_BYTES,
                 max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.path = Path(path)
        self.max_line_bytes = max_line_bytes
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()

    def append(self, record: dict) -> dict:
        """Write the record (capped); returns what was written."""
        rec = cap_record(record, self.max_line_bytes)
        line = _line(rec)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(line) > self.max_file_bytes:
                self._rotate()
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        return rec

    def _rotate(self) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        os.replace(self.path, self.path.with_name(f"{self.path.stem}-{stamp}{self.path.suffix}"))

    def files(self) -> list[Path]:
        """Rotated files (oldest first), then the current one."""
        rotated = sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}")) if self.path.parent.is_dir() else []
        return rotated + ([self.path] if self.path.exists() else [])

    def export(self) -> Iterator[bytes]:
        """Every line of every file, oldest first."""
        with self._lock:
            files = self.files()
        for p in files:
            with open(p, "rb") as f:
                yield from f

    def count(self) -> int:
        """Lines in all files (rotated ones included)."""
        with self._lock:
            files = self.files()
        n = 0
        for p in files:
            with open(p, "rb") as f:
                n += sum(1 for line in f if line.strip())
        return n
