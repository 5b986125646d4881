"""The Gradio page: a chat tab, a 政策匹配 (policy matching) tab and a knowledge-base tab, in Chinese,
with icons drawn by CSS.

Reading (chat, sources, matching, document list, chunk viewer) is open.  Adding and
removing documents, downloading originals and exporting feedback need the
admin: the 知识库 tab logs in through ``POST /api/admin/session`` (session
cookie), and every event that changes the knowledge base checks the request
on the server (:meth:`AdminAuth.request_is_admin`) — hiding the buttons is
only a convenience.  Files uploaded through the page are deleted from
Gradio's temporary folder when the request that used them ends.
"""

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from policyqa.web.context import WebContext
from policyqa.web.feedback import MAX_COMMENT_CHARS, VERDICTS, feedback_record
from policyqa.web.http_api import BadJSON, parse_ask
from policyqa.web.render import (
    answer_view, chat_message, chunks_html, copy_text, doc_items_html, doc_label, doc_table_html, esc_md, icon,
    match_empty_html, match_result_html, region_choices, sources_html, status_html, stream_units,
)
from policyqa.web.uploads import UPLOAD_TYPES

EXAMPLES = (
    "亭湖区企业买工业机器人有补贴吗",
    "评上国家级专精特新小巨人，宿迁给多少钱？",
    "那省级的呢？",
    "申报省级示范智能车间需要什么条件",
    "宿州评上小巨人奖多少",
    "漯河小升规企业第四年奖励多少",
)

# =============================================================================
# icons: inline SVG drawn as CSS masks (no emoji font needed; they take the text colour)
# =============================================================================

_SVG = {
    "up": "<path d='M7 10v11H3V10z'/><path d='M7 10l4-8a3 3 0 0 1 3 3v4h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H7'/>",
    "refusal": "<circle cx='12' cy='12' r='9'/><path d='M5.6 5.6l12.8 12.8'/>",
    "info": "<circle cx='12' cy='12' r='9'/><path d='M12 11v6M12 7.5v.5'/>",
    "pin": "<path d='M12 22s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12z'/><circle cx='12' cy='10' r='2.5'/>",
    "warn": "<path d='M12 3l10 18H2z'/><path d='M12 10v5M12 18v.5'/>",
    "download": "<path d='M12 3v12M7 10l5 5 5-5M4 21h16'/>",
    "ok": "<path d='M4 12l5 5L20 6'/>",
    "error": "<circle cx='12' cy='12' r='9'/><path d='M9 9l6 6M15 9l-6 6'/>",
    "lock": "<rect x='5' y='11' width='14' height='10' rx='2'/><path d='M8 11V7a4 4 0 0 1 8 0v4'/>",
    "copy": "<rect x='9' y='9' width='11' height='11' rx='2'/><path d='M5 15V5a1 1 0 0 1 1-1h10'/>",
    "new": "<path d='M12 5v14M5 12h14'/>",
}


def _svg_url(name: str) -> str:
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='black' "
           f"stroke-width='2' stroke-linecap='round' stroke-linejoin='round'>{_SVG[name]}</svg>")
    return "url(\"data:image/svg+xml," + quote(svg, safe="/:=' ") + "\")"


_ICON_BASE = ("display:inline-block;width:1.15em;height:1.15em;vertical-align:-0.2em;margin-right:0.35em;"
              "background-color:currentColor;-webkit-mask:var(--pqa-icon) center/contain no-repeat;"
              "mask:var(--pqa-icon) center/contain no-repeat;flex:none;")
_BUTTON_ICONS = {"pqa-up": "up", "pqa-down": "up", "pqa-copy-btn": "copy", "pqa-new": "new", "pqa-login": "lock"}

ICON_CSS = "".join(f".pqa-ic-{n} {{--pqa-icon: {_svg_url(n)};}}\n" for n in _SVG) + f".pqa-ic {{{_ICON_BASE}}}\n" + "".join(
    f"#{b}::before {{content:'';{_ICON_BASE}--pqa-icon: {_svg_url(n)};}}\n" for b, n in _BUTTON_ICONS.items()
) + "#pqa-down::before {transform: rotate(180deg);}\n"

CSS = ICON_CSS + """
#pqa-title h1 {margin-bottom: 0}
.pqa-callout {border-left: 5px solid; border-radius: 6px; padding: 8px 12px; margin: 6px 0;}
.pqa-refusal {background: #fdecea; border-color: #d93025; color: #5f2120;}
.pqa-invalid {background: #eef3fb; border-color: #5b7bd5; color: #1f3a73;}
.pqa-region {background: #fff4e5; border-color: #f29900; color: #663c00;}
.pqa-expired {background: #fff8c5; border-color: #bf8700; color: #4d3800;}
.pqa-resolved {color: #5f6368; font-size: 0.9em; font-style: italic; margin-bottom: 4px;}
.pqa-refs {font-size: 0.9em; color: #5f6368;}
.pqa-refs a, a.pqa-cite {text-decoration: none; cursor: pointer;}
.pqa-nb, a.pqa-cite, .pqa-refs a .pqa-nb {white-space: nowrap;}
#pqa-sources {max-height: 640px; overflow-y: auto;}
.pqa-turn {margin-bottom: 10px;}
.pqa-turn-head {font-weight: 600; margin: 6px 0; color: #3c4043;}
details.pqa-src {border: 1px solid #dadce0; border-radius: 6px; padding: 6px 10px; margin: 6px 0; background: var(--block-background-fill);}
details.pqa-src summary {cursor: pointer;}
details.pqa-src.pqa-flash {outline: 3px solid #f29900;}
.pqa-meta {font-size: 0.85em; color: #5f6368;}
.pqa-meta span {display: inline-block; min-width: 4.5em; color: #80868b;}
.pqa-passage {margin-top: 6px; line-height: 1.6; white-space: normal; overflow-wrap: anywhere;}
.pqa-passage mark {background: #fde68a; color: inherit; padding: 0 1px;}
.pqa-docid {font-size: 0.75em; color: #9aa0a6; margin-top: 4px; overflow-wrap: anywhere;}
.pqa-status-ok {color: #137333;}
.pqa-status-err {color: #c5221f; font-weight: 600;}
.pqa-table-wrap {max-height: 620px; overflow-y: auto; overflow-x: hidden; width: 100%;}
table.pqa-doc-table {table-layout: fixed; width: 100%; border-collapse: collapse; font-size: 0.85em;}
table.pqa-doc-table th {position: sticky; top: 0; background: var(--block-background-fill, #fff); text-align: left; z-index: 1;}
table.pqa-doc-table th, table.pqa-doc-table td {padding: 5px 6px; border-bottom: 1px solid #e0e0e0; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; white-space: normal;}
a.pqa-dl {white-space: nowrap; text-decoration: none;}
.pqa-ver, .pqa-level {font-size: 0.85em; color: #5f6368; margin-top: 2px;}
.pqa-ver-old {color: #b06000;}
tr.pqa-old-version td {background: #fafafa;}
ol.pqa-chunks {padding-left: 0; list-style: none; max-height: 520px; overflow-y: auto;}
li.pqa-chunk {border: 1px solid #dadce0; border-radius: 6px; padding: 6px 10px; margin: 6px 0;}
.pqa-doc-items {margin: 6px 0 10px;} .pqa-doc-items summary {cursor: pointer; font-weight: 600;}
.pqa-items-table {border-collapse: collapse; font-size: 13px;} .pqa-items-table th, .pqa-items-table td:nth-child(-n+2) {white-space: nowrap;} .pqa-items-table th, .pqa-items-table td {border: 1px solid #dadce0; padding: 3px 6px; vertical-align: top;}
.pqa-chunk-meta {font-size: 0.85em; color: #5f6368;}
.pqa-chunk-sec {margin: 0 6px; color: #3c4043;}
.pqa-admin-note {font-size: 0.9em; color: #5f6368;}
table.pqa-match-table {table-layout: fixed; width: 100%; border-collapse: collapse; font-size: 0.85em;}
table.pqa-match-table th {position: sticky; top: 0; background: var(--block-background-fill, #fff); text-align: left; z-index: 1;}
table.pqa-match-table th, table.pqa-match-table td {padding: 5px 6px; border-bottom: 1px solid #e0e0e0; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; white-space: normal;}
table.pqa-match-table tr.pqa-row-no td {color: #5f6368;}
table.pqa-elsewhere {opacity: 0.85;}
ul.pqa-conds {list-style: none; padding-left: 0; margin: 0;}
.pqa-cond {margin: 1px 0;}
.pqa-cond-label {font-weight: 600; margin-right: 4px;}
.pqa-met {color: #137333;}
.pqa-notmet {color: #c5221f;}
.pqa-check {color: #8a5a00;}
.pqa-rule {font-size: 0.85em; color: #5f6368; margin-top: 2px;}
.pqa-badge {display: inline-block; border-radius: 4px; padding: 0 5px; margin: 1px 2px 1px 0; font-size: 0.9em; white-space: nowrap;}
.pqa-badge.pqa-ok {background: #e6f4ea; color: #137333;}
.pqa-badge.pqa-no {background: #f1f3f4; color: #5f6368;}
.pqa-badge.pqa-old {background: #fff8c5; color: #4d3800;}
.pqa-cite-text {font-size: 0.9em;}
.pqa-match-summary {margin: 6px 0;}
.pqa-elsewhere-head {font-weight: 600; margin: 14px 0 4px; color: #3c4043;}
"""

# Runs once on page load: citation links open and scroll to their source card.
PAGE_JS = """
() => {
  if (window.__pqaCites) return;
  window.__pqaCites = true;
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[href^="#pqa-src-"]');
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const el = document.getElementById(a.getAttribute('href').slice(1));
    if (!el) return;
    el.open = true;
    el.scrollIntoView({block: 'center', behavior: 'smooth'});
    el.classList.add('pqa-flash');
    setTimeout(() => el.classList.remove('pqa-flash'), 1600);
  }, true);
}
"""

# Copies the plain-text answer: Clipboard API, then a hidden-textarea fallback.
COPY_JS = """
async (text) => {
  window.__pqaCopied = null;
  if (!text) return "还没有可复制的内容";
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (e) { ok = false; }
  if (!ok) {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
  }
  window.__pqaCopied = ok ? text : null;
  return ok ? "已复制到剪贴板" : "浏览器不允许自动复制，请在下方文本框中选中后复制";
}
"""

# Logs the page in: the token goes to the server once; the server answers with an HttpOnly session cookie.
LOGIN_JS = """
async (token) => {
  if (!token) return ["", "请输入管理员令牌"];
  try {
    const r = await fetch(new URL("api/admin/session", document.baseURI), {method: "POST",
      headers: {"Authorization": "Bearer " + token}, credentials: "same-origin"});
    return ["", r.ok ? "" : (r.status === 403 ? "管理员令牌不正确" : "登录失败（HTTP " + r.status + "）")];
  } catch (e) { return ["", "登录失败：" + e]; }
}
"""

# Downloads the result as CSV: the same profile posted to /api/match?format=csv (no file is kept on the server).
CSV_JS = """
async (profileJson) => {
  window.__pqaCsv = null;
  if (!profileJson) return "请先匹配政策";
  try {
    const r = await fetch(new URL("api/match?format=csv", document.baseURI), {method: "POST",
      headers: {"Content-Type": "application/json"}, body: profileJson, credentials: "same-origin"});
    if (!r.ok) return "下载失败（HTTP " + r.status + "）";
    const blob = await r.blob();
    window.__pqaCsv = await blob.text();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = "政策匹配结果.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    return "已下载 政策匹配结果.csv";
  } catch (e) { return "下载失败：" + e; }
}
"""

LOGOUT_JS = """
async () => {
  try { await fetch(new URL("api/admin/session", document.baseURI), {method: "DELETE", credentials: "same-origin"}); } catch (e) {}
  return "";
}
"""


@dataclass(frozen=True)
class ChatStep:
    chat: list  # Chatbot messages [{"role", "content"}]
    turns: list  # answered turns [{"question", "answer": answer_view}]
    done: bool = False
    copy_text: str = ""


def history_of(turns: Sequence[dict]) -> list[dict]:
    """The conversation history ``answer()`` takes, from the UI's turns (invalid turns left out)."""
    return [{"question": t["question"], "answer": t["answer"]["text"], "resolved_question": t["answer"]["resolved_question"]}
            for t in turns if t["answer"]["kind"] != "invalid"]


def converse(web: WebContext, question: str, chat: Sequence[dict] | None, turns: Sequence[dict] | None,
             region: str = "", doc_ids: Sequence[str] = (), delay: float = 0.03):
    """One chat turn as a stream of :class:`ChatStep`: the question, then the answer growing
    sentence by sentence, then the final step (``done``) with the plain text to copy.

    Inputs are not mutated; follow-ups get the earlier turns as history.
    """
    question = (question or "").strip()
    chat = [dict(m) for m in (chat or [])]
    turns = list(turns or [])
    if not question:
        yield ChatStep(chat, turns, True, copy_text(turns[-1]["answer"]) if turns else "")
        return
    chat.append({"role": "user", "content": esc_md(question)})
    chat.append({"role": "assistant", "content": "…"})
    yield ChatStep(list(chat), turns)
    a = web.ask(question, history_of(turns), region or "", doc_ids or ())
    view = answer_view(a)
    turns = turns + [{"question": question, "answer": view}]
    message = chat_message(view, len(turns))
    for unit in stream_units(message)[:-1]:
        chat[-1] = {"role": "assistant", "content": unit}
        yield ChatStep(list(chat), turns)
        if delay:
            time.sleep(delay)
    chat[-1] = {"role": "assistant", "content": message}
    yield ChatStep(list(chat), turns, True, copy_text(view))


INVESTMENT_HEADERS = ["投资类别", "金额（万元）"]
INVESTMENT_ROWS = 3
MATCH_EXAMPLE = {  # the example button's profile (a 亭湖区 parts maker planning robots)
    "region": "江苏省盐城市亭湖区", "industry": "机械零部件制造", "enterprise_type": "规上工业企业",
    "revenue_wan": "30000", "tax_paid_wan": "2500", "employees": "260", "honours": "市级四星级企业",
    "planned_investments": [["工业机器人", 400], ["", None], ["", None]],
}
_SPLIT = re.compile(r"[、,，;；\s]+")


def _cell_number(v, row: int):
    if v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    try:
        return float(str(v).strip().replace(",", ""))
    except ValueError:
        raise ValueError(f"第{row}行投资金额「{str(v)[:20]}」不是数字（单位：万元）") from None


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(亿元|亿|万元|万|元|人|名)?\s*$")


def _form_number(v, label: str, wan: bool = True):
    """A form's number: 8000, 8,000, 8000万元, 1.2亿 (-> 12000 万元); "" -> None (not given)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    m = _NUMBER.match(str(v).replace(",", "").replace("，", ""))
    if not m or (m.group(2) in ("人", "名") and wan) or (m.group(2) in ("亿元", "亿", "万元", "万", "元") and not wan):
        unit = "万元" if wan else "人"
        raise ValueError(f"{label}「{str(v)[:20]}」不是数字（单位：{unit}）")
    x = float(m.group(1))
    x = x * 10000 if m.group(2) in ("亿元", "亿") else x / 10000 if m.group(2) == "元" else x
    return int(x) if x.is_integer() else x


def profile_from_form(region, industry, enterprise_type, revenue, tax, employees, honours_text, no_plans, rows) -> dict:
    """The issue-13 profile object from the 政策匹配 form (raises ValueError with a one-line Chinese message).

    Empty fields are left out (their conditions are marked 需核实); 荣誉资质 「无」
    means none held; 「暂无投资计划」 means planned_investments = [] (investment
    conditions are then not met); investment rows without a kind are skipped.
    """
    p: dict = {}
    for k, v in (("region", region), ("industry", industry), ("enterprise_type", enterprise_type)):
        if isinstance(v, str) and v.strip():
            p[k] = v.strip()
    for k, v, label in (("revenue_wan", revenue, "上年营业收入"), ("tax_paid_wan", tax, "上年入库税收"), ("employees", employees, "职工人数")):
        n = _form_number(v, label, wan=k != "employees")
        if n is not None:
            p[k] = n
    text = (honours_text or "").strip()
    if text in ("无", "没有", "暂无"):
        p["honours"] = []
    elif text:
        p["honours"] = [h for h in _SPLIT.split(text) if h]
    if hasattr(rows, "values") and hasattr(rows, "columns"):  # a pandas DataFrame
        rows = rows.values.tolist()
    plans = []
    for n, row in enumerate(rows or [], 1):
        row = list(row) + [None, None]
        kind = str(row[0]).strip() if row[0] is not None and str(row[0]).strip() not in ("", "nan", "None") else ""
        amount = _cell_number(row[1], n)
        if not kind:
            if amount is not None:
                raise ValueError(f"第{n}行投资填了金额，请同时填写投资类别（如 工业机器人、设备、技术改造）")
            continue
        plans.append({"kind": kind, "amount_wan": amount})
    if plans:
        p["planned_investments"] = plans
    elif no_plans:
        p["planned_investments"] = []
    return p


def run_match(web: WebContext, form: Sequence) -> tuple[str, str, str, str]:
    """The 政策匹配 button: (result HTML, copy-ready text, the profile JSON for the CSV download, status HTML)."""
    import json

    from policyqa.qa.match import ProfileError

    try:
        profile = profile_from_form(*form)
        result = web.kb.match(profile)
    except (ValueError, ProfileError) as e:
        return match_empty_html(), "", "", status_html(str(e), False)
    n = len(result.applicable)
    msg = f"找到可申请的政策 {n} 项" if n else "没有找到可申请的政策（条件不符或已过期的见表格）"
    return (match_result_html(result.to_json()), result.to_text(), json.dumps(profile, ensure_ascii=False),
            status_html(msg, True))


def feedback_for_last(web: WebContext, turns: Sequence[dict], verdict: str, comment: str = "") -> tuple[bool, str]:
    """Record a verdict (and an optional comment) for the latest answer; returns (ok, message)."""
    if not turns:
        return False, "还没有可评价的回答"
    if verdict not in VERDICTS:
        return False, "未知的评价"
    last = turns[-1]["answer"]
    web.feedback.append(feedback_record(last["question"], last["resolved_question"], last["text"],
                                        last["json"]["citations"], verdict, (comment or "").strip()[:MAX_COMMENT_CHARS]))
    return True, "已记录您的反馈，谢谢！"


def remove_temp_files(paths: Sequence[str]) -> None:
    """Delete Gradio's temporary copies of uploaded files (and their now-empty folders)."""
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder()).resolve()
    for p in paths:
        try:
            f = Path(p).resolve()
        except OSError:
            continue
        if root not in f.parents:
            continue
        f.unlink(missing_ok=True)
        d = f.parent
        while d != root and root in d.parents:
            try:
                d.rmdir()
            except OSError:
                break
            d = d.parent


def _paths(files) -> list[str]:
    if not files:
        return []
    if not isinstance(files, (list, tuple)):
        files = [files]
    return [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]


def build_ui(web: WebContext):
    """The Gradio Blocks: a chat tab and a knowledge-base tab."""
    import gradio as gr

    limits = web.limits

    def is_admin(request) -> bool:
        return web.auth.request_is_admin(request)

    def choices():
        docs = web.kb.documents()
        regions = [("全部地区", "")] + [(r, r) for r in region_choices(docs)]
        doc_opts = [(doc_label(m), m.doc_id) for m in docs]
        return docs, regions, doc_opts

    def table(docs, admin: bool) -> str:
        url = lambda d: f"api/documents/{quote(d, safe='')}/original" if web.kb.original(d) else ""  # noqa: E731
        return doc_table_html(docs, admin, url)

    def respond(question, chat, turns, region, doc_ids):
        for step in converse(web, question, chat, turns, region, doc_ids):
            if step.done:
                yield step.chat, "", step.turns, sources_html(step.turns), step.copy_text, ""
            else:
                yield step.chat, "", step.turns, gr.skip(), gr.skip(), ""

    def new_chat():
        return [], "", [], sources_html([]), "", "", "", "（已开始新对话）"

    def give_feedback(verdict, comment, turns):
        ok, msg = feedback_for_last(web, turns, verdict, comment)
        return ("" if ok else comment), status_html(msg, ok)

    def kb_refresh(request: gr.Request):
        admin = is_admin(request)
        docs, regions, doc_opts = choices()
        ids = [m.doc_id for m in docs]
        return (table(docs, admin), gr.update(choices=regions), gr.update(choices=doc_opts),
                gr.update(choices=ids, value=None), gr.update(choices=doc_opts), f"共 {len(docs)} 篇文档")

    def admin_view(request: gr.Request):
        admin = is_admin(request)
        note = (f'{icon("lock")}已以管理员身份登录：可以添加、删除文档，下载原文件，导出反馈。' if admin else
                f'{icon("lock")}只读：查看文档和段落无需登录；添加、删除文档和导出反馈需要管理员令牌。')
        return gr.update(visible=admin), gr.update(visible=not admin), gr.update(visible=admin), \
            f'<div class="pqa-admin-note">{note}</div>'

    def upload(files, replace, request: gr.Request):
        paths = _paths(files)
        try:
            if not is_admin(request):
                return (status_html("需要管理员权限：请先在上方输入管理员令牌登录", False), None, *kb_refresh(request))
            if not paths:
                return (status_html("请先选择要上传的文件", False), gr.skip(), *kb_refresh(request))
            results = web.desk.add_files([(p, Path(p).name) for p in paths], bool(replace))
        finally:
            remove_temp_files(paths)
        lines = "".join(status_html((f"{r.file}：" if len(results) > 1 else "") + r.message, r.ok) for r in results)
        return (lines, None, *kb_refresh(request))

    def remove(doc_id, confirm, request: gr.Request):
        if not is_admin(request):
            return (status_html("需要管理员权限：请先在上方输入管理员令牌登录", False), False, *kb_refresh(request))
        if not doc_id:
            return (status_html("请先选择要删除的文档", False), gr.skip(), *kb_refresh(request))
        if not confirm:
            return (status_html(f"删除「{doc_id}」前请勾选「确认删除」", False), gr.skip(), *kb_refresh(request))
        try:
            n = web.kb.remove(doc_id)
            msg, ok = f"已删除文档「{doc_id}」（{n} 个段落；原文件移至 uploads/.removed/ 保留）。", True
        except KeyError:
            msg, ok = f"知识库中没有文档「{doc_id}」", False
        except Exception as e:
            msg, ok = f"删除失败：{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", False
        return (status_html(msg, ok), False, *kb_refresh(request))

    def show_chunks(doc_id):
        if not doc_id:
            return chunks_html(None, [])
        try:
            meta = next(m for m in web.kb.documents() if m.doc_id == doc_id)
            return doc_items_html(meta, web.kb.items_of(doc_id)) + chunks_html(meta, web.kb.chunks(doc_id))
        except (KeyError, StopIteration):
            return status_html(f"知识库中没有文档「{doc_id}」", False)

    docs, regions, doc_opts = choices()
    types = "、".join(UPLOAD_TYPES)
    with gr.Blocks(title="政策问答", delete_cache=(600, 900)) as demo:
        gr.Markdown("# 政策问答\n根据知识库中的政策文件回答，每句都标出处；找不到依据时如实说明。", elem_id="pqa-title")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                turns = gr.State([])
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label="对话", elem_id="pqa-chat", height=520, latex_delimiters=[],
                                          feedback_options=None, buttons=[], sanitize_html=True,
                                          placeholder="请在下方输入问题，或点击示例问题。")
                        with gr.Row():
                            question = gr.Textbox(label="问题", placeholder="例如：亭湖区企业买工业机器人有补贴吗", scale=5,
                                                  elem_id="pqa-question", max_lines=4, autofocus=True)
                            send = gr.Button("提问", variant="primary", scale=1, elem_id="pqa-send")
                        gr.Markdown("**示例问题**（点击即问）")
                        with gr.Row():
                            example_btns = [gr.Button(q, size="sm", elem_classes=["pqa-example"]) for q in EXAMPLES]
                        with gr.Row():
                            new_btn = gr.Button("新对话", elem_id="pqa-new")
                            copy_btn = gr.Button("复制答案", elem_id="pqa-copy-btn")
                            copy_status = gr.Markdown("", elem_id="pqa-copy-status")
                        copy_box = gr.Textbox(label="答案纯文本（可选中复制）", interactive=False, lines=6, max_lines=20,
                                              elem_id="pqa-copy")
                        with gr.Row():
                            comment = gr.Textbox(label="反馈意见（可选）", placeholder="这条回答哪里好或不好？", scale=4,
                                                 elem_id="pqa-comment")
                            up = gr.Button("有帮助", scale=1, elem_id="pqa-up")
                            down = gr.Button("没帮助", scale=1, elem_id="pqa-down")
                        fb_status = gr.HTML("", elem_id="pqa-feedback-status")
                    with gr.Column(scale=2):
                        region = gr.Dropdown(choices=regions, value="", label="地区筛选", elem_id="pqa-region")
                        doc_filter = gr.Dropdown(choices=doc_opts, value=[], multiselect=True, label="只在这些文档中查找",
                                                 elem_id="pqa-docs")
                        gr.Markdown("**来源**（点击回答中的 [n] 跳到对应原文）")
                        sources = gr.HTML(sources_html([]), elem_id="pqa-sources")
            with gr.Tab("政策匹配", id="match"):
                gr.Markdown("填写企业画像，列出可申请的奖励和补助：按金额排序，逐条标出条件 **满足 / 不满足 / 需核实**，"
                            "注明适用地区和出处。不填的项目，相关条件标为「需核实」。", elem_id="pqa-match-intro")
                with gr.Row():
                    m_region = gr.Textbox(label="所在地区", placeholder="例如：江苏省盐城市亭湖区", elem_id="pqa-m-region")
                    m_industry = gr.Textbox(label="行业", placeholder="例如：机械零部件制造", elem_id="pqa-m-industry")
                    m_type = gr.Textbox(label="企业类型", placeholder="例如：规上工业企业、中小企业", elem_id="pqa-m-type")
                with gr.Row():  # text, not gr.Number: an empty field must stay "not given", never 0
                    m_revenue = gr.Textbox(label="上年营业收入（万元）", placeholder="例如：8000（不填则相关条件需核实）",
                                           elem_id="pqa-m-revenue")
                    m_tax = gr.Textbox(label="上年入库税收（万元）", placeholder="例如：600", elem_id="pqa-m-tax")
                    m_employees = gr.Textbox(label="职工人数", placeholder="例如：120", elem_id="pqa-m-employees")
                with gr.Row():
                    m_honours = gr.Textbox(label="已获或正在申报的荣誉资质", scale=3, elem_id="pqa-m-honours",
                                           placeholder="多个用顿号分隔，如：高新技术企业、省级专精特新中小企业、市级四星级企业；没有请填「无」")
                    m_no_plans = gr.Checkbox(label="暂无投资计划", value=False, scale=1, elem_id="pqa-m-noplans")
                m_plans = gr.Dataframe(headers=INVESTMENT_HEADERS, datatype=["str", "number"], type="array",
                                       value=[["", None]] * INVESTMENT_ROWS, row_count=INVESTMENT_ROWS, column_count=2,
                                       row_limits=(1, 20), column_limits=(2, 2), interactive=True, label="计划投资（每行一项：类别 + 金额，如 工业机器人 400）",
                                       elem_id="pqa-m-plans")
                with gr.Row():
                    m_run = gr.Button("匹配政策", variant="primary", elem_id="pqa-m-run")
                    m_example = gr.Button("填入示例画像", elem_id="pqa-m-example")
                    m_clear = gr.Button("清空", elem_id="pqa-m-clear")
                m_status = gr.HTML("", elem_id="pqa-m-status")
                m_result = gr.HTML(match_empty_html(), elem_id="pqa-m-result")
                with gr.Row():
                    m_copy_btn = gr.Button("复制结果", elem_id="pqa-m-copy-btn")
                    m_csv_btn = gr.Button("下载 CSV", elem_id="pqa-m-csv")
                    m_io_status = gr.Markdown("", elem_id="pqa-m-io-status")
                m_copy = gr.Textbox(label="结果纯文本（可选中复制）", interactive=False, lines=6, max_lines=20, elem_id="pqa-m-copy")
                m_profile = gr.Textbox(visible=False, elem_id="pqa-m-profile")
            with gr.Tab("知识库", id="kb"):
                admin_note = gr.HTML("", elem_id="pqa-admin-note")
                with gr.Row(visible=True) as login_row:
                    token = gr.Textbox(label="管理员令牌", type="password", scale=4, elem_id="pqa-token",
                                       placeholder="启动时打印的令牌，或 POLICYQA_ADMIN_TOKEN")
                    login_btn = gr.Button("登录", scale=1, elem_id="pqa-login")
                login_msg = gr.Markdown("", elem_id="pqa-login-msg")
                with gr.Column(visible=False) as admin_panel:
                    with gr.Row():
                        with gr.Column():
                            gr.Markdown(f"**添加文档**（可一次选多个）：{types}，每个不超过 {limits.max_bytes // 1_000_000} MB；"
                                        "文件名就是文档ID。")
                            files = gr.File(label="选择文件", file_count="multiple", type="filepath", elem_id="pqa-upload",
                                            file_types=list(UPLOAD_TYPES), height=140)
                            with gr.Row():
                                replace = gr.Checkbox(label="替换同名文档", value=False, elem_id="pqa-replace")
                                add_btn = gr.Button("添加到知识库", variant="primary", elem_id="pqa-add")
                        with gr.Column():
                            gr.Markdown("**删除文档**")
                            remove_id = gr.Dropdown(choices=[m.doc_id for m in docs], value=None, label="文档ID",
                                                    elem_id="pqa-remove-id")
                            with gr.Row():
                                confirm = gr.Checkbox(label="确认删除", value=False, elem_id="pqa-remove-confirm")
                                remove_btn = gr.Button("删除", variant="stop", elem_id="pqa-remove")
                            gr.HTML(f'<a class="pqa-dl" href="api/feedback" download>{icon("download")}导出用户反馈（JSONL）</a>',
                                    elem_id="pqa-export")
                with gr.Row(visible=False) as logout_row:
                    logout_btn = gr.Button("退出管理员登录", size="sm", elem_id="pqa-logout")
                kb_status = gr.HTML("", elem_id="pqa-kb-status")
                kb_count = gr.Markdown(f"共 {len(docs)} 篇文档", elem_id="pqa-kb-count")
                doc_table = gr.HTML(table(docs, False), elem_id="pqa-doc-table")
                chunk_doc = gr.Dropdown(choices=doc_opts, value=None, label="查看文档段落（检索和引用的单位）",
                                        elem_id="pqa-chunk-doc")
                chunk_view = gr.HTML(chunks_html(None, []), elem_id="pqa-chunks")

        ask_out = [chat, question, turns, sources, copy_box, copy_status]
        ask_in = [question, chat, turns, region, doc_filter]
        send.click(respond, ask_in, ask_out, api_visibility="private")
        question.submit(respond, ask_in, ask_out, api_visibility="private")
        for b, q in zip(example_btns, EXAMPLES):
            b.click(lambda q=q: q, None, question, api_visibility="private", queue=False).then(
                respond, ask_in, ask_out, api_visibility="private")
        clear_out = [chat, question, turns, sources, copy_box, comment, fb_status, copy_status]
        chat.clear(new_chat, None, clear_out, api_visibility="private", queue=False)
        new_btn.click(new_chat, None, clear_out, api_visibility="private", queue=False)
        copy_btn.click(None, copy_box, copy_status, js=COPY_JS, api_visibility="private")
        up.click(lambda c, t: give_feedback("up", c, t), [comment, turns], [comment, fb_status], api_visibility="private")
        down.click(lambda c, t: give_feedback("down", c, t), [comment, turns], [comment, fb_status], api_visibility="private")

        m_form = [m_region, m_industry, m_type, m_revenue, m_tax, m_employees, m_honours, m_no_plans, m_plans]
        m_out = [m_result, m_copy, m_profile, m_status]
        def match_profile(*form):
            return run_match(web, form)

        m_run.click(match_profile, m_form, m_out, api_visibility="private")
        m_example.click(lambda: [MATCH_EXAMPLE[k] if k in MATCH_EXAMPLE else "" for k in (
            "region", "industry", "enterprise_type", "revenue_wan", "tax_paid_wan", "employees", "honours")]
            + [False, MATCH_EXAMPLE["planned_investments"]], None, m_form, api_visibility="private", queue=False)
        m_clear.click(lambda: ["", "", "", "", "", "", "", False, [["", None]] * INVESTMENT_ROWS,
                               match_empty_html(), "", "", "", ""],
                      None, m_form + m_out + [m_io_status], api_visibility="private", queue=False)
        m_copy_btn.click(None, m_copy, m_io_status, js=COPY_JS, api_visibility="private")
        m_csv_btn.click(None, m_profile, m_io_status, js=CSV_JS, api_visibility="private")

        kb_out = [doc_table, region, doc_filter, remove_id, chunk_doc, kb_count]
        admin_out = [admin_panel, login_row, logout_row, admin_note]
        add_btn.click(upload, [files, replace], [kb_status, files, *kb_out], api_visibility="private",
                      concurrency_limit=1, concurrency_id="kb-write")
        remove_btn.click(remove, [remove_id, confirm], [kb_status, confirm, *kb_out], api_visibility="private",
                         concurrency_limit=1, concurrency_id="kb-write")
        chunk_doc.change(show_chunks, chunk_doc, chunk_view, api_visibility="private", queue=False)
        login_btn.click(None, token, [token, login_msg], js=LOGIN_JS, api_visibility="private").then(
            admin_view, None, admin_out, api_visibility="private", queue=False).then(
            kb_refresh, None, kb_out, api_visibility="private", queue=False)
        token.submit(None, token, [token, login_msg], js=LOGIN_JS, api_visibility="private").then(
            admin_view, None, admin_out, api_visibility="private", queue=False).then(
            kb_refresh, None, kb_out, api_visibility="private", queue=False)
        logout_btn.click(None, None, login_msg, js=LOGOUT_JS, api_visibility="private").then(
            admin_view, None, admin_out, api_visibility="private", queue=False).then(
            kb_refresh, None, kb_out, api_visibility="private", queue=False)
        demo.load(kb_refresh, None, kb_out, api_visibility="private", queue=False)
        demo.load(admin_view, None, admin_out, api_visibility="private", queue=False)

        def ask(question: str, history_json: str = "[]", region: str = "", doc: str = "") -> dict:
            """Answer a question; returns the `policyqa ask --json` object.

            history_json: JSON list of earlier {"question", "answer", "resolved_question"} turns.
            doc: a document id (optional).
            """
            from policyqa.web.jsonbody import loads_checked

            try:
                body = {"question": question, "history": loads_checked(history_json or "[]", what="history_json"),
                        "region": region or ""}
                if doc:
                    body["doc"] = doc
                kw = parse_ask(body, {m.doc_id for m in web.kb.documents()})
            except BadJSON as e:
                raise gr.Error(str(e))
            return web.ask(**kw).to_json()

        gr.api(ask, api_name="ask")
    return demo


def mount(app, web: WebContext, concurrency: int | None = None):
    """Mount the page at ``/`` of ``app`` (queue, limits, CSS/JS)."""
    import gradio as gr

    demo = build_ui(web)
    web.blocks = demo
    limit = concurrency or int(os.environ.get("POLICYQA_CONCURRENCY", "4"))
    demo.queue(default_concurrency_limit=limit, max_size=256)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, js=PAGE_JS, footer_links=["api"],
                               max_file_size=web.limits.max_bytes, run_history=False, show_error=True)
