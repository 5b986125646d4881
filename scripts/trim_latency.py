"""Cost of the learned trimmer: answer latency on the team test half with the trimmer
off and on, alternately in one process (three rounds, after one cold pass per setting).

    POLICYQA_HOME=… python scripts/trim_latency.py

Prints one line per pass: setting, p50 ms, p95 ms.
"""

import time

import numpy as np

from policyqa.eval.questions import load_questions, select_split
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings
from pathlib import Path

path = Path(__file__).resolve().parents[1] / "eval/questions/team.jsonl"
test = [q.question for q in select_split(load_questions(path)[0], "test")]
kb = KnowledgeBase.open(Settings.from_env(), progress=False)
composer = kb._state.answerer.composer  # a measurement reaches inside; the service has no verb for this
trimmer = composer.trimmer
for r in range(4):
    for label, t in (("off", None), ("on", trimmer)):
        composer.trimmer = t
        times = []
        for q in test:
            t0 = time.perf_counter()
            kb.answer(q)
            times.append(time.perf_counter() - t0)
        print(("cold " if r == 0 else "") + label, round(float(np.percentile(times, 50)) * 1000, 1),
              round(float(np.percentile(times, 95)) * 1000, 1), flush=True)
