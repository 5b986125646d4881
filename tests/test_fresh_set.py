"""The frozen "fresh" question set (eval/questions/fresh.jsonl) and its written documents.

The set measures answers on questions no rule was tuned on (issue 12, part 1):
questions over the five built-in documents and over three county policies
written for it (eval/documents/, not part of the knowledge base).  These tests
check that the set is well formed and grounded; they never run the system.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest

from policyqa.corpus import load_corpus
from policyqa.eval.metrics import normalize
from policyqa.eval.questions import OUT_OF_CORPUS, REGION_TRAP, Question, load_questions

ROOT = Path(__file__).resolve().parents[1]
FRESH = ROOT / "eval" / "questions" / "fresh.jsonl"
BUILTIN_DIR = ROOT / "corpus" / "documents"
WRITTEN_DIR = ROOT / "eval" / "documents"

# The set is frozen: any edit to it or to the written documents must change these
# digests in the same commit, so an edit is visible in review (never tune on it).
FROZEN_SHA256 = {
    "eval/questions/fresh.jsonl": "7cb855a45cca0e9b9673aad3fafc7e094b660abc6bd929e5cb425720283e96a2",
    "eval/documents/hequan-wenjin-2025.txt": "fb79928f59ae9156e65d6da86bd5a7e21b2e939ab2cdef8e47332fb65c69b20f",
    "eval/documents/tongxi-zhizao-2021.txt": "e538195a6a10bab2d79318c33c1b2dd9b66ce2ae24e7318fdf3a4123ff7800bc",
    "eval/documents/tongxi-zhizao-2024.txt": "96e82981277acb3669d6548e5e7744a7393f167d45a8e821d997b784168c19ec",
}

# kind -> minimum number of questions (brief of issue 12's fresh set)
MIN_PER_KIND = {
    "figure": 5, "cap": 3, "rate": 3, "list": 3, "condition": 3, "responsible-unit": 3,
    "procedure": 3, "comparison": 3, "followup": 5, "partial": 3, "version": 3,
    REGION_TRAP: 3, OUT_OF_CORPUS: 12, "english": 3,
}
BUILTIN_REGIONS = ("宿迁", "宿州", "徐州", "盐城", "亭湖", "漯河")
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条", re.M)
_REPEAL = re.compile(r"《[^》]+》（([^（）]*〔\d{4}〕\d+号)）同时废止")


@pytest.fixture(scope="module")
def fresh() -> list[Question]:
    questions, errors = load_questions(FRESH)
    assert [str(e) for e in errors] == []
    return questions


@pytest.fixture(scope="module")
def raw() -> dict[str, str]:
    files = list(BUILTIN_DIR.glob("*.txt")) + list(WRITTEN_DIR.glob("*.txt"))
    return {p.name: p.read_text(encoding="utf-8") for p in files}  # file name = doc id


@pytest.fixture(scope="module")
def corpus():
    report = load_corpus([BUILTIN_DIR, WRITTEN_DIR])
    assert not report.skipped, report.skipped
    return {d.doc_id: d for d in report.documents}


@pytest.fixture(scope="module")
def written() -> set[str]:
    return {p.name for p in WRITTEN_DIR.glob("*.txt")}


def test_set_and_documents_are_frozen():
    for rel, digest in FROZEN_SHA256.items():
        assert hashlib.sha256((ROOT / rel).read_bytes()).hexdigest() == digest, rel


def test_ids_unique_and_followups_point_to_earlier_questions(fresh):
    ids = [q.id for q in fresh]
    assert len(ids) == len(set(ids))
    position = {q.id: i for i, q in enumerate(fresh)}
    for i, q in enumerate(fresh):
        if q.kind == "followup":
            assert q.followup_of, q.id
        if q.followup_of:
            assert position[q.followup_of] < i, q.id


def test_counts_per_kind_and_per_document_group(fresh, written):
    kinds = Counter(q.kind for q in fresh)
    for kind, minimum in MIN_PER_KIND.items():
        assert kinds[kind] >= minimum, (kind, kinds[kind])
    assert set(kinds) <= set(MIN_PER_KIND), set(kinds) - set(MIN_PER_KIND)
    over_builtin = [q for q in fresh if q.docs and not set(q.docs) & written]
    over_written = [q for q in fresh if set(q.docs) & written]
    assert len(over_builtin) >= 60
    assert len(over_written) >= 40
    assert sum(1 for q in fresh if q.followup_of) >= 5
    # every written document and every built-in document is asked about
    per_doc = Counter(d for q in fresh for d in q.docs)
    assert all(per_doc[d] >= 1 for d in written)
    assert all(per_doc[p.name] >= 8 for p in BUILTIN_DIR.glob("*.txt"))


def test_every_evidence_is_verbatim_in_a_raw_gold_document(fresh, raw):
    for q in fresh:
        if q.out_of_corpus:
            continue
        assert q.docs and q.evidence and q.must_include and q.answer, q.id
        assert all(d in raw for d in q.docs), q.id
        assert 8 <= len(q.evidence) <= 200, q.id
        if len(q.docs) == 1:
            assert q.evidence in raw[q.docs[0]], q.id
        else:
            assert any(q.evidence in raw[d] for d in q.docs), q.id


def test_every_fact_is_in_the_cleaned_gold_documents(fresh, corpus):
    cleaned = {doc_id: normalize(doc.text) for doc_id, doc in corpus.items()}
    for q in fresh:
        for fact in q.must_include:
            f = normalize(fact)
            assert f and len(fact) <= 25, (q.id, fact)
            assert any(f in cleaned[d] for d in q.docs), (q.id, fact)


def test_evidence_survives_cleaning(fresh, corpus):
    from policyqa.corpus.clean import clean_text

    squeezed = {doc_id: "".join(doc.text.split()) for doc_id, doc in corpus.items()}
    for q in fresh:
        if q.evidence:
            ev = "".join(clean_text(q.evidence).split())
            assert any(ev in squeezed[d] for d in q.docs), q.id


def test_out_of_corpus_questions_have_no_gold(fresh):
    for q in fresh:
        if q.out_of_corpus:
            assert q.docs == () and q.evidence == "" and q.must_include == () and q.answer, q.id


def test_comparisons_need_facts_from_each_region(fresh, corpus):
    for q in (q for q in fresh if q.kind == "comparison"):
        assert len(q.docs) >= 2, q.id
        for d in q.docs:
            text = normalize(corpus[d].text)
            assert any(normalize(f) in text for f in q.must_include), (q.id, d)


def test_region_traps_name_the_region_that_has_the_rule(fresh, corpus):
    for q in (q for q in fresh if q.kind == REGION_TRAP):
        assert len(q.docs) == 1, q.id
        region_facts = [f for f in q.must_include if not re.search(r"\d", f)]
        assert region_facts, q.id
        assert all(f in corpus[q.docs[0]].text for f in region_facts), q.id
        assert not any(f in q.question for f in region_facts), q.id  # the question names another region


def test_written_documents_are_county_policies(corpus, written):
    assert len(written) >= 3
    for doc_id in written:
        doc = corpus[doc_id]
        assert len(_ARTICLE.findall(doc.text)) >= 15, doc_id
        assert doc.meta.doc_number and doc.meta.issuer and doc.meta.date, doc_id
        assert re.search(r"自\d{4}年\d{1,2}月\d{1,2}日起施行", doc.text), doc_id
        assert re.search(r"有效期", doc.text), doc_id
        assert re.search(r"最高|不超过|封顶", doc.text) and re.search(r"\d+%", doc.text), doc_id
        assert not any(name in doc.text for name in BUILTIN_REGIONS), doc_id


def test_version_questions_ask_the_repealing_document(fresh, raw, corpus, written):
    repealed_by = {}
    for doc_id in written:
        for number in _REPEAL.findall(corpus[doc_id].text):
            repealed_by[number] = doc_id
    numbers = {corpus[d].meta.doc_number: d for d in written}
    assert repealed_by and set(repealed_by) <= set(numbers)  # the older version is in the set too
    newer = set(repealed_by.values())
    older = {numbers[n] for n in repealed_by}
    for q in (q for q in fresh if q.kind == "version"):
        assert set(q.docs) <= newer, q.id
        # the clause asked about was changed (or added) by the newer version
        assert not any(q.evidence in raw[d] for d in older), q.id
