"""Answer latency on the team set's test half: ``KnowledgeBase.answer`` end to end, warm.

    POLICYQA_HOME=… python scripts/answer_latency.py LABEL [QUESTIONS.jsonl]

Opens the knowledge base of ``POLICYQA_HOME`` (built if missing), answers five
tune-half questions to warm up, then each test-half question once (distinct
questions, so no query-vector cache helps), and prints one JSON line with the
p50/p95 in ms.  Run two versions (or backends) alternately, several rounds, to
compare them side by side on a shared machine.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from policyqa.eval.questions import load_questions, select_split
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings

label = sys.argv[1] if len(sys.argv) > 1 else "run"
path = sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).resolve().parents[1] / "eval/questions/team.jsonl")
questions = load_questions(path)[0]
test = [q.question for q in select_split(questions, "test")]
warm = [q.question for q in select_split(questions, "tune")][:5]
kb = KnowledgeBase.open(Settings.from_env(), progress=False)
for q in warm:
    kb.answer(q)
times = []
for q in test:
    t = time.perf_counter()
    kb.answer(q)
    times.append(time.perf_counter() - t)
print(json.dumps({"label": label, "n": len(times), "p50_ms": round(float(np.percentile(times, 50)) * 1000, 1),
                  "p95_ms": round(float(np.percentile(times, 95)) * 1000, 1)}))
