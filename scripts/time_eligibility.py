"""Time eligibility and comparison answers in the chat on the knowledge base (issue 13).

    POLICYQA_HOME=... python scripts/time_eligibility.py [ROUNDS]

Prints the median and max ``timings_ms.total`` per question (answers from
policy items need no retrieval; the first call reads the items).
"""

from __future__ import annotations

import json
import statistics
import sys

from policyqa.qa.service import KnowledgeBase

QUESTIONS = (
    "我们能申请哪些",
    "我们是制造企业，去年入库税收1800万，能评市级星级企业吗",
    "营收8000万的机械零部件企业在亭湖能拿什么补贴",
    "我们在亭湖，计划投资400万元购买工业机器人，能拿多少补贴",
    "宿迁和宿州对小巨人分别奖励多少",
)


def main(rounds: int = 20) -> None:
    kb = KnowledgeBase.open(progress=False)
    first = kb.answer(QUESTIONS[0]).timings_ms["total"]
    out = {"first_call_ms": round(first, 1)}
    for q in QUESTIONS:
        ts = [kb.answer(q).timings_ms["total"] for _ in range(rounds)]
        out[q] = {"p50_ms": round(statistics.median(ts), 1), "max_ms": round(max(ts), 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
