"""The web app and HTTP API over a tiny fake knowledge base (no real model, no browser)."""

import json
import threading
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from fakes import CHUNKER_SETTINGS, VOCABULARY, KeywordEmbedder, corpus, jieba_tokenizer
from policyqa import app as entry
from policyqa.index.store import IndexStore
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings
from policyqa.web import render, ui
from policyqa.web.auth import COOKIE, AdminAuth
from policyqa.web.feedback import FeedbackLog
from policyqa.web.uploads import UploadDesk, UploadError, UploadLimits, parse_in_process, safe_filename, sniff_head

ASK_KEYS = {"question", "resolved_question", "answer", "answer_markdown", "refused", "region_note", "citations", "decision", "timings_ms"}
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))")
TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def make_kb(home):
    settings = Settings(home=home)
    docs, chunks = corpus()
    store = IndexStore.build(docs, chunks, KeywordEmbedder(VOCABULARY), jieba_tokenizer(), settings.index_dir,
                             chunker_settings=CHUNKER_SETTINGS, progress=False)
    return KnowledgeBase(store, settings), settings


def api_app(kb, settings, **kw):
    kw.setdefault("parser", parse_in_process)
    return entry.create_app(kb, settings, ui=False, auth=AdminAuth(TOKEN), **kw)


@pytest.fixture
def env(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = api_app(kb, settings)
    return kb, settings, app, TestClient(app)


@pytest.fixture
def web(env):
    return env[2].state.web


def test_app_py_is_a_thin_entry_point():
    from pathlib import Path

    assert entry.create_app is not None and entry.serve is not None
    assert len(Path(entry.__file__).read_text(encoding="utf-8").splitlines()) < 40


# --- /api/ask -----------------------------------------------------------------------


def test_ask_returns_the_ask_json_object(env):
    kb, _, _, client = env
    r = client.post("/api/ask", json={"question": "国家级专精特新小巨人奖励多少"})
    assert r.status_code == 200
    got = r.json()
    assert set(got) == ASK_KEYS
    want = kb.answer("国家级专精特新小巨人奖励多少").to_json()
    assert {k: v for k, v in got.items() if k != "timings_ms"} == {k: v for k, v in want.items() if k != "timings_ms"}
    assert got["refused"] is False
    assert "50万元" in got["answer"] and got["citations"][0]["doc_id"] == "d1"


def test_ask_with_doc_filter_and_history(env):
    _, _, _, client = env
    r = client.post("/api/ask", json={"question": "按设备投资给予补助", "doc": "d2", "top_k": 3})
    assert r.status_code == 200 and {c["doc_id"] for c in r.json()["citations"]} == {"d2"}
    first = client.post("/api/ask", json={"question": "国家级专精特新小巨人奖励多少"}).json()
    r = client.post("/api/ask", json={"question": "那省级的呢？", "history": [
        {"question": first["question"], "answer": first["answer"], "resolved_question": first["resolved_question"]}]})
    assert r.status_code == 200 and r.json()["resolved_question"] == "省级专精特新小巨人奖励多少"


@pytest.mark.parametrize("body, message", [
    (b"not json", "not valid JSON"),
    (b"", "empty body"),
    (b"[1, 2]", "JSON object"),
    (b"{}", "'question'"),
    (b'{"question": 5}', "'question'"),
    (b'{"question": "   "}', "'question'"),
    (b'{"question": "q", "top_k": 0}', "'top_k'"),
    (b'{"question": "q", "top_k": true}', "'top_k'"),
    (b'{"question": "q", "history": "x"}', "'history'"),
    (b'{"question": "q", "history": [{"answer": "a"}]}', "'history'"),
    (b'{"question": "q", "doc": "nope.txt"}', "unknown document id(s): nope.txt"),
    (b'{"question": "q", "qestion": "typo"}', "unknown field(s): qestion"),
    (b'{"question": "\\ud800 x"}', "not valid Unicode"),
    (b'{"question": "q", "history": [{"question": "\\udfff"}]}', "not valid Unicode"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),
    (b'{"question": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}", "nested deeper than"),
])
def test_ask_bad_input_is_a_400_json_error(env, body, message):
    r = env[3].post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert message in r.json()["error"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_bodies_over_the_limit_are_refused_with_413(env, path):
    r = env[3].post(path, content=b'{"question": "' + b"a" * 1_100_000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and "上限" in r.json()["error"]
    assert not env[1].feedback_path.exists()


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(env):
    def gen():
        for _ in range(40):
            yield b"x" * 50_000

    r = env[3].post("/api/ask", content=gen(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_health_documents_and_chunks(env):
    client = env[3]
    assert client.get("/api/health").json() == {"status": "ok", "documents": 4, "chunks": 7}
    docs = client.get("/api/documents").json()
    assert [d["doc_id"] for d in docs] == ["d1", "d2", "d3", "d4"]
    chunks = client.get("/api/documents/d2/chunks").json()
    assert [c["chunk_id"] for c in chunks] == ["d2#1", "d2#2"] and chunks[0]["section"] == "一、"
    assert client.get("/api/documents/nope/chunks").status_code == 404


# --- admin access -----------------------------------------------------------------------


def test_changes_need_the_admin_token(env, tmp_path):
    kb, settings, _, client = env
    doc = write(tmp_path / "新政策.txt", NEW_DOC)
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong-token-xxxxxxxxxxx"}, 403)):
        assert client.delete("/api/documents/d1", headers=headers).status_code == status
        r = client.post("/api/documents", files={"file": (doc.name, doc.read_bytes())}, headers=headers)
        assert r.status_code == 401  # refused before the body is read, even with a wrong token
        assert client.get("/api/feedback", headers=headers).status_code == status
        assert client.get("/api/documents/d1/original", headers=headers).status_code == status
    assert [m.doc_id for m in kb.documents()] == ["d1", "d2", "d3", "d4"]
    assert not [p for p in settings.uploads_dir.rglob("*") if p.is_file()]
    r = client.post("/api/documents", files={"file": (doc.name, doc.read_bytes())}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["results"][0]["doc_id"] == "新政策.txt"
    assert client.get("/api/documents/新政策.txt/original", headers=ADMIN).content == doc.read_bytes()
    r = client.delete("/api/documents/d1", headers=ADMIN)
    assert r.status_code == 200 and r.json()["chunks"] == 2
    assert "d1" not in {m.doc_id for m in kb.documents()}
    assert client.delete("/api/documents/d1", headers=ADMIN).status_code == 404


def test_session_cookie_login_logout(env):
    client = env[3]
    assert client.get("/api/admin/session").json() == {"admin": False}
    assert client.post("/api/admin/session", json={"token": "nope-nope-nope-nope"}).status_code == 403
    r = client.post("/api/admin/session", headers=ADMIN)
    assert r.status_code == 200 and COOKIE in r.cookies
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert client.get("/api/admin/session").json() == {"admin": True}
    assert client.get("/api/feedback").status_code == 200  # the cookie alone is enough
    client.delete("/api/admin/session")
    assert client.get("/api/admin/session").json() == {"admin": False}


def test_admin_auth_sessions_expire_and_follow_the_token():
    auth = AdminAuth(TOKEN, session_seconds=60)
    s = auth.new_session(now=1000)
    assert auth.session_ok(s, now=1059) and not auth.session_ok(s, now=1061)
    assert not AdminAuth(TOKEN + "x").session_ok(s, now=1000)  # a new token ends old sessions
    assert not auth.session_ok("9999999999." + "0" * 64)
    assert auth.token_ok(TOKEN) and not auth.token_ok(TOKEN[:-1]) and not auth.token_ok(None)


def test_admin_token_is_generated_once_with_mode_600(tmp_path):
    import stat

    from policyqa.web.auth import AuthError, check_bind, load_admin_token

    printed = []
    first = load_admin_token(tmp_path, env={}, announce=printed.append)
    assert first.origin == "generated" and len(first.token) >= 16 and len(printed) == 1 and first.token in printed[0]
    assert stat.S_IMODE((tmp_path / "admin_token").stat().st_mode) == 0o600
    again = load_admin_token(tmp_path, env={}, announce=printed.append)
    assert again.token == first.token and len(printed) == 1  # printed once
    assert load_admin_token(tmp_path, env={"POLICYQA_ADMIN_TOKEN": "x" * 20}).token == "x" * 20
    with pytest.raises(AuthError, match="too short"):
        load_admin_token(tmp_path, env={"POLICYQA_ADMIN_TOKEN": "short"})
    assert check_bind("127.0.0.1", {}) == "" and check_bind("::1", {}) == "" and check_bind("localhost", {}) == ""
    assert "POLICYQA_ADMIN_TOKEN" in check_bind("0.0.0.0", {}) and check_bind("0.0.0.0", {"POLICYQA_ADMIN_TOKEN": "x" * 20}) == ""


def test_serving_on_all_interfaces_without_a_token_refuses_to_start(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_ADMIN_TOKEN"}
    env["POLICYQA_HOME"] = str(tmp_path)
    r = subprocess.run([sys.executable, str(Path(entry.__file__)), "--host", "0.0.0.0", "--port", "7"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "POLICYQA_ADMIN_TOKEN" in lines[0]
    assert not (tmp_path / "index").exists()


# --- feedback ---------------------------------------------------------------------


def read_lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_feedback_appends_one_json_line(env):
    _, settings, _, client = env
    r = client.post("/api/feedback", json={"question": "小巨人奖励多少", "resolved_question": "小巨人奖励多少",
                                           "answer": "50万元[1]", "citations": [{"n": 1, "doc_id": "d1"}],
                                           "verdict": "down", "comment": "想知道省级"})
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    (rec,) = read_lines(settings.feedback_path)
    assert set(rec) == {"time", "question", "resolved_question", "answer", "citations", "verdict", "comment"}
    assert (rec["verdict"], rec["comment"], rec["citations"]) == ("down", "想知道省级", [{"n": 1, "doc_id": "d1"}])
    export = client.get("/api/feedback", headers=ADMIN)
    assert export.status_code == 200 and json.loads(export.text.splitlines()[0])["comment"] == "想知道省级"


@pytest.mark.parametrize("body, message", [
    ({"question": "q", "verdict": "meh"}, "'verdict'"),
    ({"verdict": "up"}, "'question'"),
    ({"question": "q", "verdict": "up", "comment": 3}, "'comment'"),
    ({"question": "q", "verdict": "up", "citations": "x"}, "'citations'"),
    ({"question": "q", "verdict": "up", "extra": 1}, "unknown field(s): extra"),
    ({"question": "\ud800", "verdict": "up"}, "not valid Unicode"),
])
def test_feedback_bad_input(env, body, message):
    raw = json.dumps(body).encode()  # ensure_ascii keeps a lone surrogate as \ud800
    r = env[3].post("/api/feedback", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and message in r.json()["error"]
    assert not env[1].feedback_path.exists()


def test_feedback_lines_are_capped_and_marked(tmp_path):
    log = FeedbackLog(tmp_path / "fb.jsonl", max_line_bytes=20_000)
    big = {"time": "t", "question": "问" * 9000, "resolved_question": "", "answer": "答" * 20_000_000,
           "citations": [{"n": i, "doc_id": "d", "chunk_id": "c", "text": "长" * 5000} for i in range(50)],
           "verdict": "up", "comment": "好"}
    log.append(big)
    raw = (tmp_path / "fb.jsonl").read_bytes()
    assert raw.count(b"\n") == 1 and len(raw) <= 20_000
    (rec,) = read_lines(tmp_path / "fb.jsonl")
    assert "answer" in rec["truncated"] and "citations" in rec["truncated"] and rec["answer"].endswith("…[截断]")
    assert rec["verdict"] == "up" and rec["comment"] == "好" and rec["question"].startswith("问")
    log.append({"question": "小", "verdict": "up"})
    assert "truncated" not in read_lines(tmp_path / "fb.jsonl")[-1]


def test_feedback_log_rotates_by_size_and_loses_nothing(tmp_path):
    log = FeedbackLog(tmp_path / "feedback.jsonl", max_file_bytes=2_000)
    for i in range(60):
        log.append({"i": i, "pad": "x" * 100})
    files = log.files()
    assert len(files) > 3 and files[-1] == tmp_path / "feedback.jsonl"
    assert all(p.stat().st_size <= 2_000 for p in files)
    assert log.count() == 60
    assert [json.loads(line)["i"] for line in log.export()] == list(range(60))


def test_feedback_under_50_threads_loses_no_line(env):
    _, settings, _, client = env
    n_threads, per_thread = 50, 6

    def post(i):
        for j in range(per_thread):
            r = client.post("/api/feedback", json={"question": f"问题{i}-{j}", "verdict": "up" if j % 2 else "down",
                                                   "comment": "长" * 300})
            assert r.status_code == 200

    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(post, range(n_threads)))
    rows = read_lines(settings.feedback_path)  # every line parses: no interleaving
    assert len(rows) == n_threads * per_thread
    assert {r["question"] for r in rows} == {f"问题{i}-{j}" for i in range(n_threads) for j in range(per_thread)}


def test_feedback_log_direct_concurrency(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "fb.jsonl")
    barrier = threading.Barrier(50)

    def write_lines(i):
        barrier.wait()
        for j in range(20):
            log.append({"i": i, "j": j, "pad": "x" * 2000})

    threads = [threading.Thread(target=write_lines, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 1000
    assert len({(r["i"], r["j"]) for r in read_lines(log.path)}) == 1000


# --- the chat turn (what the Gradio UI streams) -----------------------------------


def test_converse_streams_and_passes_history(web):
    steps = list(ui.converse(web, "国家级专精特新小巨人奖励多少", [], [], delay=0))
    assert steps[0].chat[-1] == {"role": "assistant", "content": "…"} and not steps[0].done
    assert steps[0].chat[0] == {"role": "user", "content": render.esc_md("国家级专精特新小巨人奖励多少")}
    last = steps[-1]
    assert last.done and sum(s.done for s in steps) == 1
    msg = last.chat[-1]["content"]
    assert 'href="#pqa-src-1-1"' in msg and "50万元" in msg
    assert last.copy_text.startswith("【江苏省徐州市】") and "来源：" in last.copy_text
    contents = [s.chat[-1]["content"] for s in steps[1:]]
    assert all(b.startswith(a) for a, b in zip(contents, contents[1:]))  # the answer grows
    follow = list(ui.converse(web, "那省级的呢？", last.chat, last.turns, delay=0))[-1]
    assert len(follow.turns) == 2 and len(follow.chat) == 4
    assert follow.turns[1]["answer"]["resolved_question"] == "省级专精特新小巨人奖励多少"
    assert "理解为：省级专精特新小巨人奖励多少" in follow.chat[-1]["content"]
    assert len(last.turns) == 1  # inputs not mutated


def test_copied_text_names_the_sources_without_repeating_the_quote(web):
    last = list(ui.converse(web, "国家级专精特新小巨人奖励多少", [], [], delay=0))[-1]
    view = last.turns[0]["answer"]
    quote = view["citations"][0]["text"]
    assert last.copy_text.count(quote) == 1  # once, in the statement; not again under 来源
    assert "原文" not in last.copy_text
    assert "[1] 《徐州市专精特新企业培育通知》" in last.copy_text and "2023-03-19" in last.copy_text


def test_new_question_with_filters_and_feedback_for_last(web, env):
    settings = env[1]
    final = list(ui.converse(web, "设备投资补助", [], [], doc_ids=["d2"], delay=0))[-1]
    assert {c["doc_id"] for c in final.turns[0]["answer"]["citations"]} == {"d2"}
    assert ui.feedback_for_last(web, [], "up") == (False, "还没有可评价的回答")
    ok, msg = ui.feedback_for_last(web, final.turns, "up", " 很好 ")
    assert ok and msg.startswith("已记录")
    (rec,) = read_lines(settings.feedback_path)
    assert (rec["question"], rec["verdict"], rec["comment"]) == ("设备投资补助", "up", "很好")
    assert rec["answer"] == final.turns[0]["answer"]["text"] and rec["citations"][0]["doc_id"] == "d2"


def test_refusal_is_a_red_callout_with_a_css_icon(web):
    final = list(ui.converse(web, "火星移民签证怎么办理", [], [], delay=0))[-1]
    msg = final.chat[-1]["content"]
    assert final.turns[0]["answer"]["refused"]
    assert msg.startswith('<div class="pqa-callout pqa-refusal"><span class="pqa-ic pqa-ic-refusal" aria-hidden="true"></span>')
    assert "pqa-src" not in msg


EMOJI = range(0x1F000, 0x1FB00)


def test_page_texts_and_callouts_use_no_emoji():
    view = fake_view(region_note="地区提示", notes=["已过期"], markdown="前言\n\n答案<sup>[1]</sup>\n\n> ⚠️ note")
    html = render.chat_message(view, 1) + render.chat_message(fake_view(refused=True, kind="invalid", text="?"), 1)
    texts = html + ui.CSS + ui.COPY_JS + ui.LOGIN_JS + json.dumps(ui.EXAMPLES, ensure_ascii=False)
    assert not [ch for ch in texts if ord(ch) in EMOJI or ch in "⚠✓✔❌"]
    for name in ("refusal", "pin", "warn", "info", "up", "download"):
        assert f".pqa-ic-{name} {{--pqa-icon: url(\"data:image/svg+xml," in ui.CSS
    assert "#pqa-up::before" in ui.CSS and "#pqa-down::before" in ui.CSS


# --- uploads ------------------------------------------------------------------------


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


NEW_DOC = "测试市关于支持首台套保险补偿的通知\n对购买首台套保险的企业，按保费的80%给予补贴，最高200万元。\n测试市工业和信息化局\n2024年5月1日"


@pytest.fixture
def desk(env):
    return env[2].state.web.desk


def test_good_txt_is_added_then_removable(desk, env, tmp_path):
    kb, settings, _, client = env
    src = write(tmp_path / "测试市 通知.txt", NEW_DOC)
    res = desk.add_file(src)
    assert res.ok and res.doc_id == "测试市_通知.txt" and not res.replaced
    assert (settings.uploads_dir / "测试市_通知.txt").read_text(encoding="utf-8") == NEW_DOC
    assert client.get("/api/health").json()["documents"] == 5
    got = client.post("/api/ask", json={"question": "首台套保险补贴多少", "doc": "测试市_通知.txt"}).json()
    assert "80%" in got["answer"]
    assert kb.remove("测试市_通知.txt") >= 1
    assert not (settings.uploads_dir / "测试市_通知.txt").exists()
    assert [p.name.endswith("测试市_通知.txt") for p in (settings.uploads_dir / ".removed").iterdir()] == [True]
    assert not list((settings.uploads_dir / ".staging").iterdir())


def test_several_files_in_one_request(env, tmp_path):
    kb, _, _, client = env
    a = write(tmp_path / "甲.txt", NEW_DOC)
    b = write(tmp_path / "乙.txt", NEW_DOC.replace("测试市", "样例市").replace("80%", "60%"))
    bad = write(tmp_path / "坏.pdf", "不是PDF")
    r = client.post("/api/documents", headers=ADMIN,
                    files=[("file", (p.name, p.read_bytes())) for p in (a, b, bad)])
    assert r.status_code == 200
    res = r.json()["results"]
    assert [(x["file"], x["ok"]) for x in res] == [("甲.txt", True), ("乙.txt", True), ("坏.pdf", False)]
    assert res[2]["problem"] == "NOT_PDF"
    assert {"甲.txt", "乙.txt"} <= {m.doc_id for m in kb.documents()}
    too_many = client.post("/api/documents", headers=ADMIN, files=[("file", (f"{i}.txt", b"x")) for i in range(21)])
    assert too_many.status_code == 400


def test_fake_pdf_too_big_and_binary_are_refused(desk, env, tmp_path):
    kb, settings, _, _ = env
    res = desk.add_file(write(tmp_path / "policy.pdf", "这其实是文本，不是PDF"))
    assert not res.ok and "不是 PDF" in res.message and res.problem == "NOT_PDF"
    res = desk.add_file(write(tmp_path / "policy.docx", b"PK\x03\x04 not really a zip"))
    assert not res.ok and "zip" in res.message
    z = tmp_path / "notword.docx"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("hello.txt", "hi")
    assert "word/document.xml" in desk.add_file(z).message
    res = desk.add_file(write(tmp_path / "img.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4))
    assert not res.ok and "不是可读的文本" in res.message
    res = desk.add_file(write(tmp_path / "really.txt", b"%PDF-1.7 ...."))
    assert not res.ok and "PDF" in res.message
    res = desk.add_file(write(tmp_path / "virus.exe", "MZ"))
    assert not res.ok and "不支持的文件类型 .exe" in res.message
    small = UploadDesk(kb, tmp_path / "staging", UploadLimits(max_bytes=100), parse_in_process)
    res = small.add_file(write(tmp_path / "big.txt", "政策" * 200))
    assert not res.ok and res.message.startswith("文件太大")
    assert [m.doc_id for m in kb.documents()] == ["d1", "d2", "d3", "d4"]
    assert not [p for p in settings.uploads_dir.rglob("*") if p.is_file()]


def test_duplicates_and_same_name_replacement(desk, env, tmp_path):
    kb, settings, _, _ = env
    assert desk.add_file(write(tmp_path / "a.txt", NEW_DOC)).ok
    res = desk.add_file(write(tmp_path / "copy.txt", NEW_DOC))  # same content, other name
    assert not res.ok and res.message == "重复文档：内容与知识库中已有的「a.txt」相同，未添加"
    res = desk.add_file(write(tmp_path / "again" / "a.txt", NEW_DOC))  # same name, same content
    assert not res.ok and "同一文档" in res.message
    changed = NEW_DOC.replace("80%", "90%")
    res = desk.add_file(write(tmp_path / "v2" / "a.txt", changed))
    assert not res.ok and res.needs_confirmation and "替换同名文档" in res.message
    assert "80%" in (settings.uploads_dir / "a.txt").read_text(encoding="utf-8")
    res = desk.add_file(tmp_path / "v2" / "a.txt", replace=True)
    assert res.ok and res.replaced and res.message.startswith("已替换文档「a.txt」")
    assert "90%" in (settings.uploads_dir / "a.txt").read_text(encoding="utf-8")
    assert [m.doc_id for m in kb.documents()].count("a.txt") == 1


def test_failed_add_leaves_nothing_behind(desk, env, tmp_path, monkeypatch):
    kb, settings, _, _ = env
    assert desk.add_file(write(tmp_path / "keep.txt", NEW_DOC)).ok

    def boom(self):
        raise OSError("disk full")

    monkeypatch.setattr(IndexStore, "save", boom)
    res = desk.add_file(write(tmp_path / "new.txt", NEW_DOC.replace("测试市", "样例市")))
    assert not res.ok and res.message == "添加失败：OSError: disk full"
    assert not (settings.uploads_dir / "new.txt").exists()
    res = desk.add_file(write(tmp_path / "v2" / "keep.txt", NEW_DOC.replace("80%", "70%")), replace=True)
    assert not res.ok
    assert "80%" in (settings.uploads_dir / "keep.txt").read_text(encoding="utf-8")  # old copy restored
    assert sorted(p.name for p in settings.uploads_dir.iterdir() if p.is_file()) == ["keep.txt"]
    assert "new.txt" not in {m.doc_id for m in kb.documents()}


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\x\\政策 文件（2023）.TXT", "政策_文件（2023）.txt"),
    (".hidden.md", "hidden.md"),
    ("<script>alert(1)</script>.html", "script.html"),  # "/" splits off a path
    ("<img src=x onerror=alert(1)>.txt", "img_src_x_onerror_alert(1).txt"),
    ("..pdf", "upload.pdf"),
])
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe


def test_safe_filename_without_extension_is_refused():
    with pytest.raises(UploadError, match="没有扩展名"):
        safe_filename("../README")


def test_sniff_head_checks_the_first_bytes():
    assert sniff_head(b"%PDF-1.4\n...", ".pdf") == "pdf"
    assert sniff_head(b"PK\x03\x04rest", ".docx") == "docx"
    assert sniff_head("<html>政策</html>".encode("gb18030"), ".html") == "html"
    with pytest.raises(UploadError, match="旧版 Word"):
        sniff_head(b"\xd0\xcf\x11\xe0\xa1\xb1", ".docx")


# --- limits that hold: zip bombs and other hostile .docx files --------------------------------------


def docx_with(path, document_xml: bytes = None, extra=(), stream_xml=None):
    """A .docx whose document.xml is ``document_xml`` (or streamed from ``stream_xml()``), deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        if stream_xml is not None:
            with z.open("word/document.xml", "w", force_zip64=True) as f:
                for block in stream_xml():
                    f.write(block)
        else:
            z.writestr("word/document.xml", document_xml)
        for name, data in extra:
            z.writestr(name, data)
    return path


def bomb_xml(unpacked: int, text: bool = False):
    """A WordprocessingML body of ``unpacked`` bytes: empty paragraphs, or one huge text run (compresses ~1000:1)."""
    head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    tail = b"</w:body></w:document>"
    if text:
        head, tail = head + b"<w:p><w:r><w:t>", b"</w:t></w:r></w:p>" + tail

    def gen():
        yield head
        block = (b"x" * 6 if text else b"<w:p/>") * 100_000
        for _ in range((unpacked - len(head) - len(tail)) // len(block)):
            yield block
        yield tail
    return gen


@pytest.mark.parametrize("case, problem", [
    ("bomb", "UNPACKED_TOO_BIG"),
    ("elements", "TOO_MANY_ELEMENTS"),
    ("dtd", "XML_DTD"),
    ("parts", "TOO_MANY_PARTS"),
    ("broken", "BAD_XML"),
])
def test_hostile_docx_is_refused_while_streaming(tmp_path, case, problem):
    from policyqa.web.uploads import check_docx

    limits = UploadLimits(max_unpacked_bytes=5_000_000, max_xml_elements=50_000, max_zip_entries=20)
    p = tmp_path / f"{case}.docx"
    if case == "bomb":
        docx_with(p, stream_xml=bomb_xml(100_000_000, text=True))
        assert p.stat().st_size < 1_000_000  # small on disk, 100 MB unpacked
    elif case == "elements":
        docx_with(p, stream_xml=bomb_xml(2_000_000))  # 2 MB: under the size limit, 330k elements
    elif case == "dtd":
        docx_with(p, b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><w:document>&lol2;</w:document>')
    elif case == "parts":
        docx_with(p, b"<w:document/>", extra=[(f"word/media/{i}.bin", b"x") for i in range(30)])
    else:
        docx_with(p, b"<w:document><w:body>")
    with pytest.raises(UploadError) as err:
        check_docx(p, limits)
    assert err.value.problem.name == problem and "\n" not in str(err.value)


def test_zip_bomb_is_refused_while_health_and_answers_keep_coming(tmp_path):
    """The issue's outage: a 100 MB-unpacked .docx, uploaded while others ask; the server never stalls."""
    import socket
    import time

    import uvicorn

    kb, settings = make_kb(tmp_path / "home")
    app = entry.create_app(kb, settings, ui=False, auth=AdminAuth(TOKEN))  # the real sandboxed worker
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    bomb = docx_with(tmp_path / "政策.docx", stream_xml=bomb_xml(100_000_000))
    import httpx

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stop = threading.Event()
    health_times, health_bad, ask_bad, asks = [], [], [], []

    def poll_health():
        with httpx.Client(timeout=2.0) as c:
            while not stop.is_set():
                try:
                    ok = c.get(base + "/api/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                (health_times if ok else health_bad).append(time.monotonic())
                time.sleep(0.05)

    def ask_loop():
        with httpx.Client(timeout=5.0) as c:
            while not stop.is_set():
                r = c.post(base + "/api/ask", json={"question": "国家级专精特新小巨人奖励多少"})
                (asks if r.status_code == 200 and "50万元" in r.json()["answer"] else ask_bad).append(1)

    threads = [threading.Thread(target=poll_health), threading.Thread(target=ask_loop)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        with httpx.Client(timeout=120) as c:
            r = c.post(base + "/api/documents", headers=ADMIN, files={"file": (bomb.name, bomb.read_bytes())})
        took = time.monotonic() - t0
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
        server.should_exit = True
    assert r.status_code == 400, r.text
    assert r.json()["results"][0]["problem"] in ("UNPACKED_TOO_BIG", "TOO_MANY_ELEMENTS")
    gaps = [b - a for a, b in zip(health_times, health_times[1:])]
    assert not health_bad and len(health_times) > 5 and max(gaps) < 1.0, (max(gaps), took)
    assert not ask_bad and asks
    assert [m.doc_id for m in kb.documents()] == ["d1", "d2", "d3", "d4"]
    assert not [p for p in settings.uploads_dir.rglob("*") if p.is_file()]


def test_worker_limits_stop_a_parser_that_runs_away(tmp_path):
    """Time and memory limits of the sandboxed worker, shown with tiny limits on an ordinary file."""
    from policyqa.web.uploads import parse_isolated

    doc = write(tmp_path / "a.txt", NEW_DOC)
    with pytest.raises(UploadError) as err:
        parse_isolated(doc, UploadLimits(memory_bytes=30_000_000))  # too little memory to even import the parser
    assert err.value.problem.name in ("MEMORY", "WORKER_FAILED")
    with pytest.raises(UploadError) as err:
        parse_isolated(doc, UploadLimits(wall_seconds=0.01))
    assert err.value.problem.name == "TIMEOUT"
    parsed = parse_isolated(doc, UploadLimits())
    assert [d.doc_id for d in parsed.documents] == ["a.txt"] and parsed.chunks


# --- escaping: everything from documents and questions is inert ------------------------


def test_escape_helpers():
    from policyqa.qa.compose import md_escape

    assert render.esc_md is not None and render.esc_md("[x](y)") == md_escape("[x](y)")  # one Markdown escaper
    assert not hasattr(entry, "esc_md")
    for s in XSS:
        assert "<" not in render.esc_html(s) and ">" not in render.esc_html(s)
    assert render.esc_html("${x} {{y}} `z`") == "&#36;&#123;x&#125; &#123;&#123;y&#125;&#125; &#96;z&#96;"
    assert render.esc_md("[x](javascript:alert(1))") == "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    assert render.esc_md("<img src=x>") == "\\<img src=x\\>"
    md = "文本<sup>[1]</sup> <img src=x onerror=alert(1)> \\<b\\> javascript:alert(1)"
    assert render.inert_markdown(md) == "文本<sup>[1]</sup> &lt;img src=x onerror=alert(1)> \\<b\\> javascript&#58;alert(1)"


def fake_view(**kw):
    base = {"question": "q", "resolved_question": "q", "text": "t", "markdown": "答案<sup>[1]</sup>", "refused": False,
            "kind": "answer", "region_note": None, "notes": [], "citations": [], "json": {}}
    base.update(kw)
    return base


def test_chat_message_and_sources_are_inert():
    evil = " ".join(XSS)
    cite = {"n": 1, "doc_id": "evil<script>.txt", "chunk_id": "x#1", "title": evil, "doc_number": "<b>1号</b>",
            "issuer": evil, "date": "2024-01-01", "region": "<i>r</i>", "section": evil,
            "text": "给予<img src=x onerror=alert(1)>补贴。", "score": 1.0,
            "passage": "前文。给予<img src=x onerror=alert(1)>补贴。后文<script>alert(1)</script>"}
    view = fake_view(question=evil, resolved_question="理解" + evil, region_note="地区" + evil, notes=["过期" + evil],
                     markdown="地区lead\n\n答案<sup>[1]</sup>\n\n> ⚠️ note", citations=[cite])
    msg = render.chat_message(view, 3)
    panel = render.sources_html([{"question": evil, "answer": view}])
    for html in (msg, panel):
        assert "<script" not in html and "<img" not in html and "<b>1号" not in html and "<i>r" not in html
        assert "](javascript" not in html and "[x]" not in html
    assert 'pqa-region"><span class="pqa-ic pqa-ic-pin" aria-hidden="true"></span>地区提示：地区' in msg and "pqa-expired" in msg
    assert '<a class="pqa-cite" href="#pqa-src-3-1">[1]</a>' in msg
    assert 'id="pqa-src-1-1" open' in panel
    assert "<mark>给予&lt;img src=x onerror=alert(1)&gt;补贴。</mark>" in panel
    refusal = render.chat_message(fake_view(refused=True, kind="refusal", text=evil + "\n- 《x》"), 1)
    assert "<script" not in refusal and refusal.startswith('<div class="pqa-callout pqa-refusal">')


def test_citation_marks_are_glued_to_the_text_before_them():
    msg = render.chat_message(fake_view(markdown="【**江苏省宿迁市**】奖励100万元。<sup>[2]</sup>\n\n**来源**\n\n2. x"), 4)
    assert msg == ('【**江苏省宿迁市**】奖励100万元<span class="pqa-nb">。'
                   '<sup><a class="pqa-cite" href="#pqa-src-4-2">[2]</a></sup></span>')
    # an escaped character or an entity is kept whole
    assert render.glue_marks("a\\)<sup>[1]</sup>", 1).startswith('a<span class="pqa-nb">\\)<sup>')
    assert render.glue_marks("R&amp;<sup>[1]</sup>", 1).startswith('R<span class="pqa-nb">&amp;<sup>')
    units = render.stream_units(render.glue_marks("第一句很长的句子。" * 10 + "<sup>[1]</sup>", 1))
    assert all(u.count("<span") == u.count("</span>") for u in units)


def test_highlight_marks_each_quoted_sentence():
    passage = "一、总则。对A企业奖励10万元。其他内容。对B企业奖励20万元。"
    assert render.highlight(passage, "对A企业奖励10万元。对B企业奖励20万元。") == \
        "一、总则。<mark>对A企业奖励10万元。</mark>其他内容。<mark>对B企业奖励20万元。</mark>"
    assert render.highlight("甲<乙", "") == "甲&lt;乙"


def test_stream_units_grow_to_the_message():
    msg = "第一句很长的句子。" * 10 + "\n\n短行\n\n<div class=\"pqa-refs\">来源：。。。</div>"
    units = render.stream_units(msg)
    assert units[-1] == msg and len(units) > 5
    assert all(b.startswith(a) for a, b in zip(units, units[1:]))
    assert not any(u.endswith("<div class=\"pqa-refs\">来源：。") for u in units)


def test_region_choices():
    docs, _ = corpus()
    assert render.region_choices([d.meta for d in docs]) == sorted({
        "江苏省", "江苏省徐州市", "河南省", "河南省漯河市", "江苏省盐城市", "江苏省盐城市亭湖区", "安徽省", "安徽省宿州市"})


def test_document_table_has_every_column_in_a_fixed_layout():
    docs, _ = corpus()
    metas = [d.meta for d in docs]
    html = render.doc_table_html(metas)
    for header in ("文档ID", "标题", "发文机关", "日期", "文号", "适用范围", "类型", "有效期"):
        assert f"<th>{header}</th>" in html
    assert "2017–2020" in html and "江苏省盐城市亭湖区" in html and "原文件" not in html
    widths = [float(w) for w in __import__("re").findall(r"width:([\d.]+)%", html)]
    assert abs(sum(widths) - 100) < 0.1
    admin = render.doc_table_html(metas, admin=True, original_url=lambda d: f"api/documents/{d}/original")
    assert "<th>原文件</th>" in admin and 'href="api/documents/d1/original" download' in admin
    assert "table-layout: fixed" in ui.CSS


def test_document_table_shows_level_validity_and_versions_without_extra_columns():
    import dataclasses

    docs, _ = corpus()
    old = dataclasses.replace(docs[0].meta, doc_id="old.txt", superseded_by=("new.txt",), valid_to="2022-12-31")
    new = dataclasses.replace(docs[0].meta, doc_id="new.txt", supersedes=("old.txt",), issuer_level="city",
                              jurisdiction="江苏省徐州市", valid_from="2023-01-01", valid_to="2025-12-31")
    html = render.doc_table_html([old, new])
    assert html.count("<th>") == 8
    assert '<div class="pqa-ver pqa-ver-old">已被取代：new.txt</div>' in html and "取代：old.txt" in html
    assert '<div class="pqa-level">市级</div>' in html and "2023-01-01 至 2025-12-31" in html and "至 2022-12-31" in html
    assert '<tr class="pqa-old-version">' in html


def test_chunk_viewer_lists_a_documents_chunks_inert(env):
    kb = env[0]
    html = render.chunks_html(kb.documents()[0], kb.chunks("d1"))
    assert html.count('<li class="pqa-chunk">') == 2 and "d1#1" in html and "50万元" in html
    from policyqa.corpus.types import Chunk, DocMeta

    evil = render.chunks_html(DocMeta(doc_id="x", title=XSS[0]), [Chunk("x#1", "x", XSS[1], XSS[1], 0, 1)])
    assert "<script" not in evil and "<img" not in evil


# --- the whole app with the Gradio UI mounted ---------------------------------------------


def run_event(client, app, fn_name, data):
    """Run one Gradio event the way the page does (queue join + server-sent events); returns its output."""
    blocks = app.state.web.blocks
    fn_index, fn = next((i, f) for i, f in blocks.fns.items() if f.name == fn_name)
    trigger = fn.targets[0][0] if fn.targets else None
    session = uuid.uuid4().hex[:12]
    r = client.post("/gradio_api/queue/join", json={"data": data, "event_data": None, "fn_index": fn_index,
                                                     "trigger_id": trigger, "session_hash": session})
    assert r.status_code == 200, r.text
    out = None
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as s:
        for line in s.iter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("msg") == "process_completed":
                out = msg["output"]
            if msg.get("msg") in ("close_stream",) or (out is not None and msg.get("msg") == "process_completed"):
                break
    return out


@pytest.fixture
def page(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = entry.create_app(kb, settings, auth=AdminAuth(TOKEN), parser=parse_in_process)
    with TestClient(app) as client:
        yield kb, settings, app, client


def test_create_app_serves_ui_and_api_on_one_port_in_chinese(page):
    _, _, _, client = page
    html = client.get("/")
    assert html.status_code == 200 and "<html" in html.text.lower()
    head = html.text.split("<head>", 1)[1]
    assert head.startswith("<script>") and "'zh-CN'" in head.split("</script>", 1)[0]  # before Gradio's scripts
    labels = json.dumps(client.get("/config").json(), ensure_ascii=False)
    for text in ("复制答案", "新对话", "知识库", "地区筛选", "管理员令牌", "查看文档段落", "亭湖区企业买工业机器人有补贴吗"):
        assert text in labels
    assert client.get("/api/health").json()["documents"] == 4


def test_page_events_that_change_the_knowledge_base_need_the_admin(page, tmp_path):
    kb, settings, app, client = page
    out = run_event(client, app, "remove", ["d1", True])
    assert "需要管理员权限" in out["data"][0] and "d1" in {m.doc_id for m in kb.documents()}
    doc = write(tmp_path / "up" / "页面上传.txt", NEW_DOC)
    r = client.post("/gradio_api/upload", files={"files": (doc.name, doc.read_bytes())})
    assert r.status_code == 401  # Gradio's upload route: refused before the file is stored
    client.post("/api/admin/session", headers=ADMIN)  # log the page in (cookie)
    out = run_event(client, app, "remove", ["d1", True])
    assert "已删除文档「d1」" in out["data"][0] and "d1" not in {m.doc_id for m in kb.documents()}


def test_page_upload_adds_several_files_and_leaves_no_temp_file(page, tmp_path):
    from gradio.utils import get_upload_folder

    kb, settings, app, client = page
    client.post("/api/admin/session", headers=ADMIN)
    a = write(tmp_path / "up" / "页面甲.txt", NEW_DOC)
    b = write(tmp_path / "up" / "页面乙.txt", NEW_DOC.replace("测试市", "样例市"))
    r = client.post("/gradio_api/upload", files=[("files", (p.name, p.read_bytes())) for p in (a, b)])
    assert r.status_code == 200, r.text
    temp = r.json()
    assert all(__import__("os").path.exists(p) for p in temp)
    files = [{"path": p, "orig_name": n, "meta": {"_type": "gradio.FileData"}} for p, n in zip(temp, ("页面甲.txt", "页面乙.txt"))]
    out = run_event(client, app, "upload", [files, False])
    assert "已添加文档「页面甲.txt」" in out["data"][0] and "已添加文档「页面乙.txt」" in out["data"][0]
    assert {"页面甲.txt", "页面乙.txt"} <= {m.doc_id for m in kb.documents()}
    root = get_upload_folder()
    left = [p for p in __import__("pathlib").Path(root).rglob("*") if p.is_file() and p.name in ("页面甲.txt", "页面乙.txt")]
    assert left == []


# --- the page built after the first answer (serve) --------------------------------------


def _until(cond, seconds=30.0):
    import time

    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_deferred_page_answers_the_api_first_then_serves_the_page(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = entry.create_app(kb, settings, auth=AdminAuth(TOKEN), parser=parse_in_process, defer_ui=True)
    deferred = app.state.deferred_ui
    with TestClient(app) as client:
        r = client.get("/")
        assert r.status_code == 503 and "正在启动" in r.text and r.headers["retry-after"] == "1"
        assert client.post("/api/ask", json={"question": "亭湖区企业买工业机器人有补贴吗"}).status_code == 200
        assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401  # guarded already
        assert deferred.build()
        _until(lambda: deferred.ready)
        page = client.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        labels = json.dumps(client.get("/config").json(), ensure_ascii=False)
        assert "新对话" in labels and "知识库" in labels
        assert app.state.web.blocks is not None
        assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401
        assert client.get("/api/health").json()["documents"] == 4
    assert not deferred.ready  # the page's lifespan ended with the app's


def test_deferred_page_built_before_the_server_started_is_served(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = entry.create_app(kb, settings, auth=AdminAuth(TOKEN), parser=parse_in_process, defer_ui=True)
    assert app.state.deferred_ui.build()
    with TestClient(app) as client:
        _until(lambda: app.state.deferred_ui.ready)
        assert client.get("/").status_code == 200


def test_a_page_that_fails_to_build_says_so_and_the_api_keeps_working(tmp_path, capsys):
    from policyqa.web.server import DeferredUI

    kb, settings = make_kb(tmp_path / "home")
    app = api_app(kb, settings)

    def broken():
        raise ImportError("no module named gradio")

    deferred = DeferredUI(broken)
    app.mount("/", deferred)
    with TestClient(app) as client:
        assert deferred.build() is False
        r = client.get("/")
        assert r.status_code == 503 and "未能加载" in r.text and "retry-after" not in r.headers
        assert client.post("/api/ask", json={"question": "亭湖区企业买工业机器人有补贴吗"}).status_code == 200
    assert "no module named gradio" in capsys.readouterr().err


# --- policy matching: POST /api/match, POST /api/compare, the 政策匹配 tab -------------------------

MATCH_KEYS = ["profile", "items", "elsewhere", "region", "unknown_fields"]
ITEM_KEYS = ["doc_id", "chunk_id", "title", "region", "benefit", "amount_text", "estimate_wan", "conditions",
             "applicable", "expired", "citation", "region_rule", "superseded", "superseded_by"]


def test_api_match_returns_the_cli_json_object_and_reports_unknown_fields(env):
    kb, _, _, client = env
    profile = {"region": "徐州市", "honours": ["国家级专精特新小巨人"], "turnover": 5}
    r = client.post("/api/match", json=profile)  # read-only: no admin token
    assert r.status_code == 200
    d = r.json()
    assert list(d) == MATCH_KEYS and d["unknown_fields"] == ["turnover"] and d["region"] == "江苏省徐州市"
    assert d == json.loads(json.dumps(kb.match(profile).to_json(), ensure_ascii=False))  # exactly `policyqa match --json`
    (item,) = [i for i in d["items"] if i["applicable"]]
    assert list(item) == ITEM_KEYS and item["amount_text"] == "50万元" and item["estimate_wan"] == 50
    assert item["region_rule"] == "local" and "「" in item["citation"]
    other = client.post("/api/match", json={"region": "江苏省盐城市亭湖区", "honours": ["国家级专精特新小巨人"]}).json()
    assert not [i for i in other["items"] if i["doc_id"] == "d1"]  # 徐州's reward never applies in 亭湖区
    assert [i["doc_id"] for i in other["elsewhere"]] == ["d1"] and not other["elsewhere"][0]["applicable"]


@pytest.mark.parametrize("body,query,message", [
    ({"revenue_wan": "八千万"}, "", "revenue_wan"),
    ({"honours": "x", "planned_investments": [{"amount_wan": 3}]}, "", "planned_investments[0]"),
    ({"employees": -3}, "", "employees"),
    (["region"], "", "must be a JSON object"),
    ({"region": "徐州"}, "?format=xml", "'format'"),
    ({"region": "徐州"}, "?today=yesterday", "'today'"),
])
def test_api_match_bad_input_is_a_400_with_one_line(env, body, query, message):
    r = env[3].post("/api/match" + query, json=body)
    assert r.status_code == 400 and message in r.json()["error"] and "\n" not in r.json()["error"]


def test_api_match_exports_csv_and_text(env):
    client = env[3]
    r = client.post("/api/match?format=csv&today=2025-06-01", json={"region": "徐州市"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(__import__("csv").reader(__import__("io").StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["序号", "可申请", "已过期", "已被取代", "适用地区"] and any("50万元" in x for x in rows[1])
    text = client.post("/api/match?format=text", json={"region": "徐州市"}).text
    assert text.startswith("企业画像：江苏省徐州市") and "50万元" in text


def test_api_compare(env):
    client = env[3]
    d = client.post("/api/compare", json={"topic": "小巨人", "regions": ["徐州"]}).json()
    assert d["regions"] == ["江苏省徐州市"] and d["cells"][0]["amount_text"] == "50万元"
    for body, msg in (({"topic": ""}, "'topic'"), ({"topic": "小巨人", "x": 1}, "unknown field"),
                      ({"topic": "小巨人", "regions": 3}, "'regions'"), ({"topic": "x", "today": "2025-13-01"}, "'today'")):
        r = client.post("/api/compare", json=body)
        assert r.status_code == 400 and msg in r.json()["error"]


def test_profile_from_the_form():
    f = ui.profile_from_form
    assert f("", "", "", "", "", "", "", False, [["", None]] * 3) == {}
    assert f(" 亭湖区 ", "机械", "", "8,000", "600万元", "12", "高新技术企业、市级四星级企业", False,
             [["工业机器人", 400], ["设备", "1,200"], ["", None]]) == {
        "region": "亭湖区", "industry": "机械", "revenue_wan": 8000, "tax_paid_wan": 600, "employees": 12,
        "honours": ["高新技术企业", "市级四星级企业"],
        "planned_investments": [{"kind": "工业机器人", "amount_wan": 400}, {"kind": "设备", "amount_wan": 1200.0}]}
    assert f("", "", "", None, None, None, "无", True, []) == {"honours": [], "planned_investments": []}
    assert f("", "", "", None, None, None, "", False, [["技术改造", None]])["planned_investments"] == [
        {"kind": "技术改造", "amount_wan": None}]
    assert f("", "", "", "1.2亿", "", "", "", False, [])["revenue_wan"] == 12000
    with pytest.raises(ValueError, match="上年营业收入「很多」不是数字"):
        f("", "", "", "很多", "", "", "", False, [])
    with pytest.raises(ValueError, match="职工人数"):
        f("", "", "", "", "", "12万元", "", False, [])
    with pytest.raises(ValueError, match="第2行"):
        f("", "", "", None, None, None, "", False, [["设备", 1], ["", 300]])
    with pytest.raises(ValueError, match="不是数字"):
        f("", "", "", None, None, None, "", False, [["设备", "很多"]])


def match_json_with(**item):
    base = {"doc_id": "d", "chunk_id": "d#1", "title": "t", "region": "江苏省", "benefit": "b", "amount_text": "10万元",
            "estimate_wan": 10, "conditions": [{"text": "适用地区：江苏省（覆盖江苏省盐城市射阳县）", "status": "met"}],
            "applicable": True, "expired": False, "citation": "《t》：「s」", "region_rule": "above", "superseded": False,
            "superseded_by": []}
    base.update(item)
    return base


def test_match_result_html_marks_conditions_flags_and_is_inert():
    old = match_json_with(applicable=False, superseded=True, superseded_by=["new.txt"], expired=True,
                          conditions=[{"text": "适用地区：江苏省", "status": "met"}, {"text": "入库税收 ≥ 2000万元（画像：1800万元）",
                                                                                  "status": "not_met"}])
    evil = match_json_with(benefit=XSS[0], amount_text=XSS[1], citation=XSS[2] + XSS[0],
                           conditions=[{"text": XSS[1], "status": "needs_checking"}])
    html = render.match_result_html({"items": [evil, old], "elsewhere": [match_json_with(applicable=False, region_rule="elsewhere")],
                                     "region": "江苏省盐城市射阳县", "unknown_fields": ["<b>x</b>"]})
    assert "<script" not in html and "<img" not in html and "<b>x</b>" not in html
    assert "可申请 1 项" in html and "已被新版取代" in html and "已过期" in html and "新版：new.txt" in html
    assert 'class="pqa-cond pqa-notmet"' in html and "不满足" in html and 'class="pqa-cond pqa-check"' in html
    assert "上级政策，覆盖本地" in html and "其他地区的同类政策（1 项" in html and "未识别的字段" in html
    assert html.count("<table") == 2 and html.count("<th>") == 2 * len(render.MATCH_COLUMNS)


def test_match_tab_through_the_page(page):
    _, _, app, client = page
    labels = json.dumps(client.get("/config").json(), ensure_ascii=False)
    for text in ("政策匹配", "所在地区", "计划投资", "匹配政策", "下载 CSV", "复制结果"):
        assert text in labels
    plans = {"headers": ui.INVESTMENT_HEADERS, "data": [["工业机器人", 400], ["", None], ["", None]]}
    out = run_event(client, app, "match_profile", ["徐州市", "", "", None, None, None, "国家级专精特新小巨人", False, plans])
    result, text, profile, status = out["data"]
    assert "50万元" in result and "可申请 1 项" in result and "找到可申请的政策 1 项" in status
    assert text.startswith("企业画像：江苏省徐州市") and json.loads(profile)["planned_investments"][0]["kind"] == "工业机器人"
    bad = {"headers": ui.INVESTMENT_HEADERS, "data": [["", 300]]}
    out = run_event(client, app, "match_profile", ["徐州市", "", "", None, None, None, "", False, bad])
    assert "第1行" in out["data"][3] and out["data"][2] == ""
