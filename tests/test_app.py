"""The web app and HTTP API over a tiny fake knowledge base (no real model, no browser)."""

import json
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from fakes import CHUNKER_SETTINGS, VOCABULARY, KeywordEmbedder, corpus, jieba_tokenizer
from policyqa import app as webapp
from policyqa.index.store import IndexStore
from policyqa.qa.service import KnowledgeBase
from policyqa.settings import Settings

ASK_KEYS = {"question", "resolved_question", "answer", "answer_markdown", "refused", "region_note", "citations", "decision", "timings_ms"}
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))")


def make_kb(home):
    settings = Settings(home=home)
    docs, chunks = corpus()
    store = IndexStore.build(docs, chunks, KeywordEmbedder(VOCABULARY), jieba_tokenizer(), settings.index_dir,
                             chunker_settings=CHUNKER_SETTINGS, progress=False)
    return KnowledgeBase(store, settings), settings


@pytest.fixture
def env(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = webapp.create_app(kb, settings, ui=False)
    return kb, settings, app, TestClient(app)


@pytest.fixture
def service(env):
    return env[2].state.service


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
    assert set(got["timings_ms"]) >= {"retrieve", "compose", "total"}


def test_ask_with_doc_filter_and_history(env):
    _, _, _, client = env
    r = client.post("/api/ask", json={"question": "按设备投资给予补助", "doc": "d2", "top_k": 3})
    assert r.status_code == 200 and r.json()["citations"]
    assert {c["doc_id"] for c in r.json()["citations"]} == {"d2"}
    first = client.post("/api/ask", json={"question": "国家级专精特新小巨人奖励多少"}).json()
    r = client.post("/api/ask", json={"question": "那省级的呢？", "history": [
        {"question": first["question"], "answer": first["answer"], "resolved_question": first["resolved_question"]}]})
    assert r.status_code == 200
    assert r.json()["resolved_question"] == "省级专精特新小巨人奖励多少"


@pytest.mark.parametrize("body, message", [
    (b"not json", "not valid JSON"),
    (b"", "empty body"),
    (b"[1, 2]", "JSON object"),
    (b"{}", "'question'"),
    (b'{"question": 5}', "'question'"),
    (b'{"question": "   "}', "'question'"),
    (b'{"question": "q", "top_k": 0}', "'top_k'"),
    (b'{"question": "q", "top_k": "5"}', "'top_k'"),
    (b'{"question": "q", "top_k": true}', "'top_k'"),
    (b'{"question": "q", "history": "x"}', "'history'"),
    (b'{"question": "q", "history": [{"answer": "a"}]}', "'history'"),
    (b'{"question": "q", "region": 3}', "'region'"),
    (b'{"question": "q", "doc": [1]}', "'doc'"),
    (b'{"question": "q", "doc": "nope.txt"}', "unknown document id(s): nope.txt"),
    (b'{"question": "q", "qestion": "typo"}', "unknown field(s): qestion"),
])
def test_ask_bad_input_is_a_400_json_error(env, body, message):
    r = env[3].post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert message in r.json()["error"]


def test_health_and_documents(env):
    client = env[3]
    assert client.get("/api/health").json() == {"status": "ok", "documents": 4, "chunks": 7}
    docs = client.get("/api/documents").json()
    assert [d["doc_id"] for d in docs] == ["d1", "d2", "d3", "d4"]
    assert docs[1]["period"] == "2017–2020" and docs[0]["region"] == "江苏省徐州市"


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


@pytest.mark.parametrize("body, message", [
    ({"question": "q", "verdict": "meh"}, "'verdict'"),
    ({"verdict": "up"}, "'question'"),
    ({"question": "q", "verdict": "up", "comment": 3}, "'comment'"),
    ({"question": "q", "verdict": "up", "citations": "x"}, "'citations'"),
    ({"question": "q", "verdict": "up", "extra": 1}, "unknown field(s): extra"),
])
def test_feedback_bad_input(env, body, message):
    r = env[3].post("/api/feedback", json=body)
    assert r.status_code == 400 and message in r.json()["error"]
    assert not env[1].feedback_path.exists()


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
    log = webapp.FeedbackLog(tmp_path / "sub" / "fb.jsonl")
    barrier = threading.Barrier(50)

    def write(i):
        barrier.wait()
        for j in range(20):
            log.append({"i": i, "j": j, "pad": "x" * 2000})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 1000
    assert len({(r["i"], r["j"]) for r in read_lines(log.path)}) == 1000


# --- the chat turn (what the Gradio UI streams) -----------------------------------


def test_converse_streams_and_passes_history(service):
    steps = list(webapp.converse(service, "国家级专精特新小巨人奖励多少", [], [], delay=0))
    assert steps[0].chat[-1] == {"role": "assistant", "content": "…"} and not steps[0].done
    assert steps[0].chat[0] == {"role": "user", "content": webapp.esc_md("国家级专精特新小巨人奖励多少")}
    last = steps[-1]
    assert last.done and sum(s.done for s in steps) == 1
    msg = last.chat[-1]["content"]
    assert 'href="#pqa-src-1-1"' in msg and "50万元" in msg
    assert last.copy_text.startswith("【江苏省徐州市】") and "来源：" in last.copy_text
    contents = [s.chat[-1]["content"] for s in steps[1:]]
    assert all(b.startswith(a) for a, b in zip(contents, contents[1:]))  # the answer grows
    follow = list(webapp.converse(service, "那省级的呢？", last.chat, last.turns, delay=0))[-1]
    assert len(follow.turns) == 2 and len(follow.chat) == 4
    assert follow.turns[1]["answer"]["resolved_question"] == "省级专精特新小巨人奖励多少"
    assert "理解为：省级专精特新小巨人奖励多少" in follow.chat[-1]["content"]
    assert len(last.turns) == 1  # inputs not mutated


def test_new_question_with_filters_and_feedback_for_last(service, env):
    settings = env[1]
    final = list(webapp.converse(service, "设备投资补助", [], [], doc_ids=["d2"], delay=0))[-1]
    assert {c["doc_id"] for c in final.turns[0]["answer"]["citations"]} == {"d2"}
    assert webapp.feedback_for_last(service, [], "up") == (False, "还没有可评价的回答")
    ok, msg = webapp.feedback_for_last(service, final.turns, "up", " 很好 ")
    assert ok and msg.startswith("已记录")
    (rec,) = read_lines(settings.feedback_path)
    assert (rec["question"], rec["verdict"], rec["comment"]) == ("设备投资补助", "up", "很好")
    assert rec["answer"] == final.copy_text and rec["citations"][0]["doc_id"] == "d2"


def test_refusal_is_a_red_callout(service):
    final = list(webapp.converse(service, "火星移民签证怎么办理", [], [], delay=0))[-1]
    msg = final.chat[-1]["content"]
    assert final.turns[0]["answer"]["refused"]
    assert msg.startswith('<div class="pqa-callout pqa-refusal">🚫 ')
    assert "pqa-src" not in msg


# --- uploads ------------------------------------------------------------------------


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


NEW_DOC = "测试市关于支持首台套保险补偿的通知\n对购买首台套保险的企业，按保费的80%给予补贴，最高200万元。\n测试市工业和信息化局\n2024年5月1日"


def test_good_txt_is_added_then_removable(service, env, tmp_path):
    kb, settings, _, client = env
    src = write(tmp_path / "测试市 通知.txt", NEW_DOC)
    res = service.add_upload(src)
    assert res.ok and res.doc_id == "测试市_通知.txt" and not res.replaced
    assert (settings.uploads_dir / "测试市_通知.txt").read_text(encoding="utf-8") == NEW_DOC
    assert "测试市_通知.txt" in {m.doc_id for m in kb.documents()}
    assert client.get("/api/health").json()["documents"] == 5
    got = client.post("/api/ask", json={"question": "首台套保险补贴多少", "doc": "测试市_通知.txt"}).json()
    assert "80%" in got["answer"]
    res = service.remove("测试市_通知.txt")
    assert res.ok and "测试市_通知.txt" not in {m.doc_id for m in kb.documents()}
    assert not (settings.uploads_dir / "测试市_通知.txt").exists()
    assert service.remove("测试市_通知.txt").message == "知识库中没有文档「测试市_通知.txt」"


def test_fake_pdf_too_big_and_binary_are_refused(env, tmp_path):
    kb, settings, app, _ = env
    service = app.state.service
    res = service.add_upload(write(tmp_path / "policy.pdf", "这其实是文本，不是PDF"))
    assert not res.ok and "不是 PDF" in res.message
    res = service.add_upload(write(tmp_path / "policy.docx", b"PK\x03\x04 not really a zip"))
    assert not res.ok and "docx" in res.message
    z = tmp_path / "notword.docx"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("hello.txt", "hi")
    assert "word/document.xml" in service.add_upload(z).message
    res = service.add_upload(write(tmp_path / "img.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4))
    assert not res.ok and "不是可读的文本" in res.message
    res = service.add_upload(write(tmp_path / "really.txt", b"%PDF-1.7 ...."))
    assert not res.ok and "PDF" in res.message
    res = service.add_upload(write(tmp_path / "virus.exe", "MZ"))
    assert not res.ok and "不支持的文件类型 .exe" in res.message
    small = webapp.Service(kb, settings, max_upload_bytes=100)
    res = small.add_upload(write(tmp_path / "big.txt", "政策" * 200))
    assert not res.ok and res.message.startswith("文件太大")
    assert [m.doc_id for m in kb.documents()] == ["d1", "d2", "d3", "d4"]
    assert not [p for p in settings.uploads_dir.rglob("*") if p.is_file()]


def test_duplicates_and_same_name_replacement(service, env, tmp_path):
    kb, settings, _, _ = env
    assert service.add_upload(write(tmp_path / "a.txt", NEW_DOC)).ok
    res = service.add_upload(write(tmp_path / "copy.txt", NEW_DOC))  # same content, other name
    assert not res.ok and res.message == "重复文档：内容与知识库中已有的「a.txt」相同，未添加"
    (tmp_path / "again").mkdir()
    res = service.add_upload(write(tmp_path / "again" / "a.txt", NEW_DOC))  # same name, same content
    assert not res.ok and "同一文档" in res.message
    changed = NEW_DOC.replace("80%", "90%")
    (tmp_path / "v2").mkdir()
    res = service.add_upload(write(tmp_path / "v2" / "a.txt", changed))
    assert not res.ok and res.needs_confirmation and "替换同名文档" in res.message
    assert "80%" in (settings.uploads_dir / "a.txt").read_text(encoding="utf-8")
    res = service.add_upload(tmp_path / "v2" / "a.txt", replace=True)
    assert res.ok and res.replaced and res.message.startswith("已替换文档「a.txt」")
    assert "90%" in (settings.uploads_dir / "a.txt").read_text(encoding="utf-8")
    assert [m.doc_id for m in kb.documents()].count("a.txt") == 1


def test_failed_add_leaves_nothing_behind(service, env, tmp_path, monkeypatch):
    kb, settings, _, _ = env
    assert service.add_upload(write(tmp_path / "keep.txt", NEW_DOC)).ok

    def boom(paths, progress=False):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kb, "add", boom)
    res = service.add_upload(write(tmp_path / "new.txt", NEW_DOC.replace("测试市", "样例市")))
    assert not res.ok and res.message == "添加失败：RuntimeError: disk full"
    assert not (settings.uploads_dir / "new.txt").exists()
    (tmp_path / "v2").mkdir()
    res = service.add_upload(write(tmp_path / "v2" / "keep.txt", NEW_DOC.replace("80%", "70%")), replace=True)
    assert not res.ok
    assert "80%" in (settings.uploads_dir / "keep.txt").read_text(encoding="utf-8")  # old copy restored
    assert sorted(p.name for p in settings.uploads_dir.iterdir() if p.is_file()) == ["keep.txt"]
    assert "new.txt" not in {m.doc_id for m in kb.documents()}


def test_add_that_fails_after_indexing_is_rolled_back(service, env, tmp_path, monkeypatch):
    kb, settings, _, _ = env
    real_add = kb.add

    def add_then_fail(paths, progress=False):
        real_add(paths, progress)
        raise OSError("index save failed")

    monkeypatch.setattr(kb, "add", add_then_fail)
    res = service.add_upload(write(tmp_path / "half.txt", NEW_DOC))
    assert not res.ok and res.message == "添加失败：OSError: index save failed"
    assert [m.doc_id for m in kb.documents()] == ["d1", "d2", "d3", "d4"]
    assert not (settings.uploads_dir / "half.txt").exists()


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\x\\政策 文件（2023）.TXT", "政策_文件（2023）.txt"),
    (".hidden.md", "hidden.md"),
    ("<script>alert(1)</script>.html", "script.html"),  # "/" splits off a path
    ("<img src=x onerror=alert(1)>.txt", "img_src_x_onerror_alert(1).txt"),
    ("..pdf", "upload.pdf"),
])
def test_safe_filename(name, safe):
    assert webapp.safe_filename(name) == safe


def test_safe_filename_without_extension_is_refused():
    with pytest.raises(webapp.UploadError, match="没有扩展名"):
        webapp.safe_filename("../README")


def test_sniff_accepts_real_types(tmp_path):
    assert webapp.sniff(b"%PDF-1.4\n...", ".pdf") == "pdf"
    z = tmp_path / "d.docx"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("word/document.xml", "<w:document/>")
    assert webapp.sniff(z.read_bytes(), ".docx") == "docx"
    assert webapp.sniff("<html><body>政策</body></html>".encode("gb18030"), ".html") == "html"
    assert webapp.sniff("# 标题\n正文".encode(), ".md") == "md"


# --- escaping: everything from documents and questions is inert ------------------------


def test_escape_helpers():
    for s in XSS:
        assert "<" not in webapp.esc_html(s) and ">" not in webapp.esc_html(s)
    assert webapp.esc_html("${x} {{y}} `z`") == "&#36;&#123;x&#125; &#123;&#123;y&#125;&#125; &#96;z&#96;"
    assert webapp.esc_md("[x](javascript:alert(1))") == "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    assert webapp.esc_md("<img src=x>") == "\\<img src=x\\>"
    md = "文本<sup>[1]</sup> <img src=x onerror=alert(1)> \\<b\\> javascript:alert(1)"
    assert webapp.inert_markdown(md) == "文本<sup>[1]</sup> &lt;img src=x onerror=alert(1)> \\<b\\> javascript&#58;alert(1)"


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
    msg = webapp.chat_message(view, 3)
    turns = [{"question": evil, "answer": view}]
    panel = webapp.sources_html(turns)
    for html in (msg, panel):
        assert "<script" not in html and "<img" not in html and "<b>1号" not in html and "<i>r" not in html
        assert "](javascript" not in html and "[x]" not in html
    assert '<div class="pqa-callout pqa-region">📍 地区' in msg and "pqa-expired" in msg
    assert '<a class="pqa-cite" href="#pqa-src-3-1">[1]</a>' in msg
    assert 'id="pqa-src-1-1" open' in panel
    assert "<mark>给予&lt;img src=x onerror=alert(1)&gt;补贴。</mark>" in panel
    refusal = webapp.chat_message(fake_view(refused=True, kind="refusal", text=evil + "\n- 《x》"), 1)
    assert "<script" not in refusal and refusal.startswith('<div class="pqa-callout pqa-refusal">')


def test_citation_marks_link_to_sources():
    msg = webapp.chat_message(fake_view(markdown="【**江苏省宿迁市**】奖励100万元。<sup>[2]</sup>\n\n**来源**\n\n2. x"), 4)
    assert msg == '【**江苏省宿迁市**】奖励100万元。<sup><a class="pqa-cite" href="#pqa-src-4-2">[2]</a></sup>'


def test_highlight_marks_each_quoted_sentence():
    passage = "一、总则。对A企业奖励10万元。其他内容。对B企业奖励20万元。"
    assert webapp.highlight(passage, "对A企业奖励10万元。对B企业奖励20万元。") == \
        "一、总则。<mark>对A企业奖励10万元。</mark>其他内容。<mark>对B企业奖励20万元。</mark>"
    assert webapp.highlight("甲<乙", "") == "甲&lt;乙"


def test_stream_units_grow_to_the_message():
    msg = "第一句很长的句子。" * 10 + "\n\n短行\n\n<div class=\"pqa-refs\">来源：。。。</div>"
    units = webapp.stream_units(msg)
    assert units[-1] == msg and len(units) > 5
    assert all(b.startswith(a) for a, b in zip(units, units[1:]))
    assert not any(u.endswith("<div class=\"pqa-refs\">来源：。") for u in units)


def test_region_choices():
    docs, _ = corpus()
    assert webapp.region_choices([d.meta for d in docs]) == sorted({
        "江苏省", "江苏省徐州市", "河南省", "河南省漯河市", "江苏省盐城市", "江苏省盐城市亭湖区", "安徽省", "安徽省宿州市"})


# --- the whole app with the Gradio UI mounted ---------------------------------------------


def test_create_app_serves_ui_and_api_on_one_port(tmp_path):
    kb, settings = make_kb(tmp_path / "home")
    app = webapp.create_app(kb, settings)
    with TestClient(app) as client:
        page = client.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        config = client.get("/config").json()
        labels = json.dumps(config, ensure_ascii=False)
        for text in ("复制答案", "新对话", "知识库", "地区筛选", "亭湖区企业买工业机器人有补贴吗"):
            assert text in labels
        assert client.get("/api/health").json()["documents"] == 4
