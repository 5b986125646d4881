"""The issue's reference point for NCP ROUGE-L (README "What still fails → NCP ROUGE-L"):
quote the one sentence of the top three retrieved passages that shares most words
(jieba, two characters or more) with the question; also the best such sentence by
ROUGE-L (an upper bound for one-sentence answers).  NCP tune half only.

    POLICYQA_HOME=$PWD/var/home .venv/bin/python scripts/ncp_sentence_baseline.py [DETAILS.jsonl]

DETAILS: a ``policyqa eval --details`` file of the NCP tune half, to print its ROUGE-L
beside them.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from pathlib import Path

from policyqa.corpus.pipeline import load_corpus
from policyqa.eval.metrics import rouge_l_f
from policyqa.eval.questions import load_questions, select_split
from policyqa.eval.run import CONFIGS, index_for
from policyqa.index.embeddings import load_embedder
from policyqa.index.tokenize import JiebaTokenizer

NCP = Path("../shared/external/ncp-policies")


def main() -> None:
    home = Path(os.environ.get("POLICYQA_HOME", Path.home() / ".policyqa"))
    questions = select_split(load_questions(str(NCP / "dev.jsonl"))[0], "tune")
    tok = JiebaTokenizer()
    store = index_for(CONFIGS["default"], load_corpus([str(NCP / "corpus.jsonl")]).documents, home / "eval-indexes", load_embedder(), tok, False)
    retriever = store.retriever(CONFIGS["default"].retrieval)
    base, best = [], []
    for q in questions:
        words = {t for t in tok.tokenize(q.question) if len(t) >= 2}
        sents = [s.strip() for h in retriever.search(q.question, k=3) for s in re.split(r"(?<=[。！？；\n])", h.chunk.text) if s.strip()]
        pick = max(sents, key=lambda s: sum(w in s for w in words)) if sents else ""
        base.append(rouge_l_f(pick, q.answer))
        best.append(max((rouge_l_f(s, q.answer) for s in sents), default=0.0))
    print(f"NCP tune ({len(questions)}): most-shared-words sentence {statistics.mean(base):.3f}, best sentence {statistics.mean(best):.3f}")
    if len(sys.argv) > 1:
        ref = {q.id: q.answer for q in questions}
        rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
        got = [rouge_l_f(r["answer"].split("\n来源：", 1)[0].strip(), ref[r["id"]]) for r in rows if r["id"] in ref]
        print(f"answers of {sys.argv[1]}: {statistics.mean(got):.3f}")


if __name__ == "__main__":
    main()
