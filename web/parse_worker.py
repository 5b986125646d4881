"""The sandboxed upload parser: ``python -m policyqa.web.parse_worker`` (started by ``uploads.parse_isolated``).

Reads one JSON job ``{"path", "limits"}`` on stdin, lowers its own priority,
sets ``RLIMIT_CPU`` and ``RLIMIT_AS`` from the limits, checks and parses the
file (``uploads.parse_checked``) and writes one JSON object on stdout:
``{"ok": true, "documents", "chunks", "skipped", "originals"}`` or
``{"ok": false, "problem": <Problem name>, "details": {...}}``.  A limit it
cannot report (killed by the kernel) shows as its exit signal.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def apply_limits(cpu_seconds: int, memory_bytes: int) -> None:
    try:
        os.nice(10)  # the server and its answers come first
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> int:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    from policyqa.web.uploads import Problem, UploadError, UploadLimits, parse_checked
    from pathlib import Path

    limits = UploadLimits.from_dict(job.get("limits") or {})
    apply_limits(limits.cpu_seconds, limits.memory_bytes)
    try:
        result = parse_checked(Path(job["path"]), limits)
    except UploadError as e:
        result = {"ok": False, "problem": e.problem.name, "details": e.details}
    except MemoryError:
        result = {"ok": False, "problem": Problem.MEMORY.name, "details": {"limit_mb": limits.memory_bytes / 1e6}}
    except RecursionError:
        result = {"ok": False, "problem": Problem.UNREADABLE.name, "details": {"detail": "结构嵌套过深"}}
    out = json.dumps(result, ensure_ascii=False).encode("utf-8")
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
