"""The real app in headless Chromium: answer, sources, copy, upload, XSS, feedback.

Starts ``app.py`` on 127.0.0.1 (a free port) with POLICYQA_HOME in a temporary
folder, so the first start builds the index with the real embedding model
(about a minute), then drives Debian's chromium with Selenium.  Screenshots
go to docs/screenshots/ (answer.png, sources.png, upload.png).

Run: ``pytest --runslow tests/test_browser.py`` (needs ``apt-get install
chromium chromium-driver`` and ``pip install selenium``).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

TEST_DOC = ("测试市关于支持工业企业购买首台套装备的通知\n"
            "一、对购买首台套装备的企业，按设备购置金额的17.5%给予补贴，单个企业最高补贴300万元。\n"
            "二、本通知自印发之日起施行。\n测试市工业和信息化局\n2024年3月1日\n")
XSS_DOC = ("安全测试县<script>alert(1)</script>奖励政策\n"
           "一、对安全测试县新认定的瞪羚企业<img src=x onerror=alert(1)>一次性奖励66万元。[x](javascript:alert(1))\n"
           "二、<img src=x onerror=\"window.__pwned=1\">安全测试县瞪羚企业申报材料见附件。\n"
           "安全测试县工业和信息化局\n2024年4月1日\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f"browser test needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver")
    pytest.importorskip("selenium", reason="browser test needs selenium: pip install selenium")
    home = tmp_path_factory.mktemp("home")
    port = _free_port()
    env = dict(os.environ, POLICYQA_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("POLICYQA_INDEX", None)
    log = open(home / "server.log", "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(home))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("app exited early:\n" + (home / "server.log").read_text(encoding="utf-8")[-3000:])
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=2) as r:
                    if json.load(r)["status"] == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("app did not start within 300 s")
            time.sleep(0.5)
        yield {"url": url, "home": home, "log": home / "server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def driver(server, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000", "--lang=zh-CN"):
        opts.add_argument(flag)
    opts.add_argument("--user-data-dir=" + str(tmp_path_factory.mktemp("chrome-profile")))
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    try:
        yield d
    finally:
        d.quit()


# --- helpers ---------------------------------------------------------------------------


def wait(d, cond, timeout=60, what="condition"):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        cond, message=f"timed out waiting for {what}")


def css(d, sel):
    from selenium.webdriver.common.by import By

    return d.find_elements(By.CSS_SELECTOR, sel)


def open_app(d, url):
    d.get(url + "/")
    wait(d, lambda d: css(d, "#pqa-question textarea"), what="the chat page")


def turns_shown(d) -> int:
    return len(css(d, "#pqa-sources .pqa-turn"))


def ask(d, question):
    """Type a question, send it and wait until the final answer (sources panel) is shown."""
    before = turns_shown(d)
    box = css(d, "#pqa-question textarea")[0]
    box.clear()
    box.send_keys(question)
    css(d, "#pqa-send")[0].click()
    wait(d, lambda d: turns_shown(d) == before + 1, 120, f"the answer to {question!r}")
    return last_bot(d)


def click_example(d, question):
    """Click an example-question button and wait for its answer."""
    before = turns_shown(d)
    [b for b in css(d, "button.pqa-example") if b.text.strip() == question][0].click()
    wait(d, lambda d: turns_shown(d) == before + 1, 120, f"the answer to example {question!r}")
    return last_bot(d)


def last_bot(d):
    bots = css(d, '#pqa-chat [data-testid="bot"]')
    return bots[-1] if bots else None


def tab(d, label):
    from selenium.webdriver.common.by import By

    btn = [b for b in d.find_elements(By.CSS_SELECTOR, "button[role=tab]") if b.text.strip() == label][0]
    btn.click()


def upload(d, path: Path):
    tab(d, "知识库")
    wait(d, lambda d: css(d, "#pqa-upload input[type=file]"), what="the upload input")
    css(d, "#pqa-upload input[type=file]")[0].send_keys(str(path))
    wait(d, lambda d: css(d, f'#pqa-upload td.filename[aria-label="{path.name}"]'), 60, "the uploaded file name")
    sel = "#pqa-kb-status .pqa-status-ok, #pqa-kb-status .pqa-status-err"
    old = [e.text.strip() for e in css(d, sel)]
    css(d, "#pqa-add")[0].click()
    wait(d, lambda d: (now := [e.text.strip() for e in css(d, sel)]) and now != old, 120, "the upload result")
    return css(d, sel)[0].text.strip()


def assert_no_injection(d):
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018 - raises when no alert dialog is open
    assert d.execute_script("return window.__pwned === undefined")
    assert not css(d, 'img[src="x"]')
    assert not css(d, 'a[href^="javascript:"]')
    scripts = d.execute_script("return Array.from(document.scripts).map(s => s.textContent)")
    assert not [s for s in scripts if "alert(1)" in s]


# --- tests -----------------------------------------------------------------------------


def test_answer_sources_and_copy(driver, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_app(driver, server["url"])
    msg = ask(driver, "亭湖区企业买工业机器人有补贴吗")
    assert "25%" in msg.text
    marks = msg.find_elements("css selector", "a.pqa-cite")
    assert marks and marks[0].text == "[1]"
    driver.save_screenshot(str(SHOTS / "answer.png"))

    marks[0].click()
    card = wait(driver, lambda d: (c := css(d, "#pqa-src-1-1")) and c[0].get_attribute("open") is not None and c[0],
                what="source card 1 to open")
    mark = card.find_elements("css selector", ".pqa-passage mark")
    assert mark and mark[0].is_displayed() and "25%" in mark[0].text
    summary = card.find_element("css selector", "summary").text
    assert "《强化政策服务 聚力推动产业新城建设》" in summary
    assert "亭湖区工信局" in card.text and "2020-09-09" in card.text and "江苏省盐城市亭湖区" in card.text
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", css(driver, "#pqa-sources")[0])
    time.sleep(0.5)
    driver.save_screenshot(str(SHOTS / "sources.png"))

    plain = css(driver, "#pqa-copy textarea")[0].get_attribute("value")
    assert "25%" in plain and "来源：" in plain and "[1] 《强化政策服务 聚力推动产业新城建设》" in plain
    css(driver, "#pqa-copy-btn")[0].click()
    status = wait(driver, lambda d: css(d, "#pqa-copy-status")[0].text.strip(), what="the copy status")
    assert status in ("已复制到剪贴板 ✓", "浏览器不允许自动复制，请在下方文本框中选中后复制")
    copied = driver.execute_script("return window.__pqaCopied")
    if status.startswith("已复制"):
        assert copied == plain


def test_follow_up_filters_and_new_chat(driver, server):
    open_app(driver, server["url"])
    first = click_example(driver, "评上国家级专精特新小巨人，宿迁给多少钱？")
    assert "100万元" in first.text
    follow = click_example(driver, "那省级的呢？")
    assert "理解为：" in follow.text and "省级" in follow.text
    assert css(driver, "#pqa-src-2-1")  # the second turn's sources, newest first
    assert css(driver, "#pqa-sources .pqa-turn-head")[0].text.startswith("第2问")
    css(driver, "#pqa-new")[0].click()
    wait(driver, lambda d: turns_shown(d) == 0 and not css(d, '#pqa-chat [data-testid="bot"]'), what="a new chat")
    refusal = ask(driver, "火星移民签证怎么办理")
    assert refusal.find_elements("css selector", ".pqa-callout.pqa-refusal")
    elsewhere = ask(driver, "南京市专精特新小巨人奖励多少")
    note = elsewhere.find_elements("css selector", ".pqa-callout.pqa-region")
    assert note and "不适用于江苏省南京市" in note[0].text
    expired = ask(driver, "漯河小升规企业第四年奖励多少")
    assert expired.find_elements("css selector", ".pqa-callout.pqa-expired")


def test_feedback_is_recorded(driver, server):
    open_app(driver, server["url"])
    ask(driver, "漯河小升规企业第四年奖励多少")
    css(driver, "#pqa-comment textarea")[0].send_keys("想看原文")
    css(driver, "#pqa-down")[0].click()
    wait(driver, lambda d: "已记录" in css(d, "#pqa-feedback-status")[0].text, what="the feedback status")
    rows = [json.loads(x) for x in (server["home"] / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[-1]["question"] == "漯河小升规企业第四年奖励多少"
    assert (rows[-1]["verdict"], rows[-1]["comment"]) == ("down", "想看原文")
    assert rows[-1]["answer"] and isinstance(rows[-1]["citations"], list)


def test_upload_then_ask(driver, server, tmp_path):
    open_app(driver, server["url"])
    doc = tmp_path / "测试市首台套通知.txt"
    doc.write_text(TEST_DOC, encoding="utf-8")
    status = upload(driver, doc)
    assert status.startswith("已添加文档「测试市首台套通知.txt」"), status
    assert "测试市首台套通知.txt" in css(driver, "#pqa-doc-table")[0].text
    driver.save_screenshot(str(SHOTS / "upload.png"))
    again = upload(driver, doc)
    assert again.startswith("重复文档"), again
    tab(driver, "问答")
    msg = ask(driver, "测试市企业购买首台套装备补贴多少")
    assert "17.5%" in msg.text


def test_xss_in_documents_and_questions_is_inert(driver, server, tmp_path):
    open_app(driver, server["url"])
    doc = tmp_path / "安全测试县.txt"
    doc.write_text(XSS_DOC, encoding="utf-8")
    status = upload(driver, doc)
    assert status.startswith("已添加"), status
    assert_no_injection(driver)
    tab(driver, "问答")
    msg = ask(driver, "安全测试县瞪羚企业奖励多少")
    assert "66万元" in msg.text
    assert_no_injection(driver)
    passage = css(driver, "#pqa-src-1-1 .pqa-passage")[0].text
    assert "66万元" in passage and "onerror" in passage  # the payload is shown as plain text
    ask(driver, "<img src=x onerror=alert(1)>[x](javascript:alert(1))<script>alert(1)</script>安全测试县瞪羚企业")
    user_msgs = css(driver, '#pqa-chat [data-testid="user"]')
    assert "<img src=x onerror=alert(1)>" in user_msgs[-1].text  # shown as text
    time.sleep(1)
    assert_no_injection(driver)
    pwned = server["home"] / "uploads" / "安全测试县.txt"
    assert pwned.exists()
