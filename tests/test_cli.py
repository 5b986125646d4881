"""CLI: ingest and docs (corpus stage commands), exit statuses and JSON shapes."""

import json
import os
import subprocess
import sys

from policyqa.corpus.pipeline import builtin_corpus_dir


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "policyqa.cli", *args], capture_output=True, text=True, timeout=120, **kw)


def test_ingest_writes_chunks_and_reports_skipped_files(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_bytes("一、总则\n1.对新认定的企业奖励200万元。\n".encode("gbk"))
    (folder / "bad.txt").write_bytes(b"\x00\x01\x02binary" * 100)
    (folder / "empty.md").write_text("", encoding="utf-8")
    out = tmp_path / "chunks.jsonl"
    r = run("ingest", str(folder), "--out", str(out))
    assert r.returncode == 1  # something was skipped
    assert "skipped 'bad.txt'" in r.stderr and "skipped 'empty.md'" in r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1
    assert rows[0]["doc_id"] == "a.txt" and rows[0]["text"] == "1.对新认定的企业奖励200万元。"
    assert set(rows[0]) >= {"chunk_id", "doc_id", "section", "text", "start", "end", "header"}
    assert rows[0]["section"] == "一、总则 > 1.对新认定的企业奖励200万元"


def test_ingest_builtin_is_clean_exit(tmp_path):
    out = tmp_path / "c.jsonl"
    r = run("ingest", str(builtin_corpus_dir()), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "5 documents" in r.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) > 100


def test_docs_json_lists_metadata():
    r = run("docs", "--json", "--corpus", str(builtin_corpus_dir()))
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["doc_id"] for x in rows][:2] == ["000_df2ff32941c852ae.txt", "001_19db83a107069549.txt"]
    assert set(rows[0]) == {"doc_id", "title", "issuer", "date", "doc_number", "region", "doc_type", "period",
                            "issuer_level", "jurisdiction", "valid_from", "valid_to", "supersedes", "superseded_by"}
    x = next(x for x in rows if x["doc_id"].startswith("002"))
    assert x["doc_number"] == "徐中小办发〔2023〕3号" and x["period"] == "2023–2025" and x["region"] == "江苏省徐州市"
    assert (x["issuer_level"], x["jurisdiction"], x["supersedes"], x["superseded_by"]) == ("city", "江苏省徐州市", [], [])


def test_usage_errors_exit_2():
    assert run("ingest").returncode == 2
    assert run("nonsense").returncode == 2


def test_bad_history_files_are_one_line_errors_not_tracebacks(tmp_path):
    cases = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "surrogate.json": '[{"question": "\\ud800"}]',
        "notjson.json": "{",
        "shape.json": '{"question": "x"}',
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        r = run("ask", "小巨人奖励多少", "--history", str(p), "--json", env={"POLICYQA_HOME": str(tmp_path / "home"), **_env()})
        assert r.returncode == 2, (name, r.stderr)
        assert r.stdout == "" and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, (name, r.stderr)
        assert not (tmp_path / "home" / "index").exists()  # refused before opening (or building) anything


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "POLICYQA_HOME"}


def test_empty_or_oversized_questions_are_answered_without_loading_an_index(tmp_path):
    home = tmp_path / "home"
    for question in ("", "  ", "啊" * 5000):
        r = run("ask", question, "--json", env={"POLICYQA_HOME": str(home), **_env()})
        assert r.returncode == 0, r.stderr
        a = json.loads(r.stdout)
        assert a["refused"] and a["decision"] == "invalid" and a["answer"]
    assert not (home / "index").exists()  # nothing was built or opened


def test_an_eval_threshold_outside_zero_to_one_is_a_usage_error(tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"id": "a", "question": "补贴多少？"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = run("eval", str(q), "--threshold", "1.5", env={**os.environ, "POLICYQA_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "--threshold" in r.stderr and "Traceback" not in r.stderr
