"""Break an evaluation's ``--details`` file down by question kind and by document group.

``python -m policyqa.eval.breakdown DETAILS.jsonl QUESTIONS.jsonl [--new-docs DIR]``
prints, as JSON, for all questions, for each kind, and (with ``--new-docs``) for
questions whose gold documents are built-in vs among DIR's files:

- ``n``: questions; ``facts_all``: answers holding every required fact (questions
  with required facts only); ``false_refusal``: in-corpus questions refused;
  ``ooc_declined``: out-of-corpus questions refused or answered with a "not
  covered for that region" lead (the details' ``refused`` or ``region_note``).

Pure functions over the details lines (never mutated); the JSON is what the
README's per-kind and per-group figures are copied from.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, Mapping, Sequence


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 3) if n else None


def declined(refused: bool, region_note: str | None) -> bool:
    """An out-of-corpus question is declined when it is refused or answered with a "not
    covered for that region" lead (「知识库中没有…的地方政策文件；以下是国家层面…」)."""
    return bool(refused or region_note)


def summarize(rows: Iterable[Mapping]) -> dict:
    """Counts and rates over details lines (see the module doc)."""
    rows = list(rows)
    with_facts = [r for r in rows if r.get("must_include") and not r.get("out_of_corpus")]
    in_corpus = [r for r in rows if not r.get("out_of_corpus")]
    ooc = [r for r in rows if r.get("out_of_corpus")]
    facts = sum(1 for r in with_facts if all(r.get("facts_found") or [False]))
    false_ref = sum(1 for r in in_corpus if r.get("refused"))
    n_declined = sum(1 for r in ooc if declined(r.get("refused", False), r.get("region_note")))
    return {"n": len(rows), "facts_all": _rate(facts, len(with_facts)), "facts_n": f"{facts}/{len(with_facts)}",
            "false_refusal": _rate(false_ref, len(in_corpus)), "false_refusal_n": f"{false_ref}/{len(in_corpus)}",
            "ooc_declined": _rate(n_declined, len(ooc)), "ooc_declined_n": f"{n_declined}/{len(ooc)}"}


def group_of(question: Mapping, new_docs: frozenset[str]) -> str:
    """``new-docs`` when any gold document of the question is one of ``new_docs``, else ``built-in``."""
    docs = question.get("docs") or ([question["doc"]] if question.get("doc") else [])
    return "new-docs" if any(d in new_docs for d in docs) else "built-in"


def breakdown(details: Sequence[Mapping], questions: Sequence[Mapping], new_docs: frozenset[str] = frozenset()) -> dict:
    """``{"all": …, "by_kind": {kind: …}, "by_group": {group: …}}`` (groups only with ``new_docs``)."""
    by_id = {q["id"]: q for q in questions}
    out = {"all": summarize(details), "by_kind": {}, "by_group": {}}
    for kind in sorted({d.get("kind") or "" for d in details}):
        out["by_kind"][kind] = summarize(d for d in details if (d.get("kind") or "") == kind)
    if new_docs:
        groups: dict[str, list] = {}
        for d in details:
            groups.setdefault(group_of(by_id.get(d["id"], {}), new_docs), []).append(d)
        out["by_group"] = {g: summarize(rows) for g, rows in sorted(groups.items())}
    return out


def _jsonl(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m policyqa.eval.breakdown", description=__doc__.split("\n\n")[0])
    p.add_argument("details", help="a --details file of policyqa eval")
    p.add_argument("questions", help="the question set it was run on")
    p.add_argument("--new-docs", metavar="DIR", help="folder of the documents that count as new (e.g. eval/documents)")
    a = p.parse_args(argv)
    try:
        details, questions = _jsonl(a.details), _jsonl(a.questions)
    except (OSError, ValueError) as e:
        print(f"breakdown: cannot read input: {e}", file=sys.stderr)
        return 2
    new = frozenset(x.name for x in Path(a.new_docs).iterdir()) if a.new_docs else frozenset()
    print(json.dumps(breakdown(details, questions, new), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
