"""What the web page shows, as pure functions: escaped HTML and Markdown from answers and documents.

Everything that comes from documents or questions is inert: values placed in
HTML go through :func:`esc_html`; text placed in Markdown goes through the
one Markdown escaper of the answer stage, :func:`policyqa.qa.compose.md_escape`;
:func:`inert_markdown` re-checks the composer's Markdown.  Icons are CSS
classes (``pqa-ic-*``, drawn with inline-SVG masks in ``ui.CSS``), so nothing
depends on an emoji font.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Sequence

from policyqa.qa.compose import md_escape

# =============================================================================
# escaping
# =============================================================================

_HTML_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
             "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;"}
_HTML_RE = re.compile("[&<>\"'`${}\\[\\]]")


def esc_html(text: Any) -> str:
    """Escape text for HTML element content and attribute values.

    Besides ``& < > " '`` it escapes `` ` $ { } [ ]`` so that no template
    engine (Gradio's HTML templates, KaTeX) or Markdown link syntax can treat
    document text as code.
    """
    return _HTML_RE.sub(lambda m: _HTML_ESC[m.group(0)], str(text if text is not None else ""))


def esc_md(text: Any) -> str:
    """Text for the chat's Markdown (the answer stage's escaper, so there is only one)."""
    return md_escape(str(text if text is not None else ""))


_SUP = re.compile(r"<sup>\[(\d{1,3})\]</sup>")
_RAW_LT = re.compile(r"(?<!\\)<")


def inert_markdown(md: str) -> str:
    """Answer Markdown with any stray raw ``<`` neutralised.

    The composer escapes document text already; this is a second line of
    defence: the only raw tags kept are its citation marks ``<sup>[n]</sup>``.
    """
    keep: list[str] = []

    def hold(m: re.Match) -> str:
        keep.append(m.group(1))
        return f"\x00{len(keep) - 1}\x00"

    out = _SUP.sub(hold, md)
    out = _RAW_LT.sub("&lt;", out)
    out = re.sub(r"(?i)javascript:", "javascript&#58;", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: f"<sup>[{keep[int(m.group(1))]}]</sup>", out)


# =============================================================================
# the chat message
# =============================================================================


def icon(name: str) -> str:
    """An icon drawn by CSS (``ui.CSS``: ``.pqa-ic-<name>``); decorative, hidden from screen readers."""
    return f'<span class="pqa-ic pqa-ic-{esc_html(name)}" aria-hidden="true"></span>'


def cite_link(turn: int, n: int | str) -> str:
    """The chat's [n] mark: a link to source card ``pqa-src-<turn>-<n>``."""
    return f'<sup><a class="pqa-cite" href="#pqa-src-{int(turn)}-{int(n)}">[{int(n)}]</a></sup>'


# one "character" of escaped Markdown before a mark: an entity, an escaped character or a plain one
_LAST_UNIT = r"(&[A-Za-z]+;|&#\d+;|\\.|[^\s\\<>])"
_GLUE = re.compile(_LAST_UNIT + r"<sup>\[(\d{1,3})\]</sup>")


def glue_marks(md: str, turn: int) -> str:
    """Turn ``<sup>[n]</sup>`` into citation links glued to the character before them.

    The last character and the mark sit in one ``white-space: nowrap`` span,
    so a line never starts with a lone ``[n]``.
    """
    out = _GLUE.sub(lambda m: f'<span class="pqa-nb">{m.group(1)}{cite_link(turn, m.group(2))}</span>', md)
    return _SUP.sub(lambda m: f'<span class="pqa-nb">{cite_link(turn, m.group(1))}</span>', out)


def source_title(c: dict) -> str:
    title = f"《{c.get('title')}》" if c.get("title") else str(c.get("doc_id", ""))
    return title + (f"（{c['doc_number']}）" if c.get("doc_number") else "")


CALLOUTS = {  # kind -> (css class, icon, text label before the message for readers without icons)
    "refusal": ("pqa-refusal", "refusal", ""),
    "invalid": ("pqa-invalid", "info", ""),
    "region": ("pqa-region", "pin", "地区提示："),
    "expired": ("pqa-expired", "warn", "时效提示："),
}


def callout(kind: str, html_body: str) -> str:
    cls, ic, label = CALLOUTS[kind]
    return f'<div class="pqa-callout {cls}">{icon(ic)}{esc_html(label)}{html_body}</div>'


def chat_message(a: dict, turn: int) -> str:
    """The assistant's chat message (Markdown with a few escaped HTML callouts).

    ``a`` is :func:`answer_view` of an Answer.  Refusals, region notes and
    expired-policy notes become coloured callouts; citation marks link to the
    sources panel; the long source list stays in the panel.
    """
    parts: list[str] = []
    if a["resolved_question"] and a["resolved_question"].strip() != a["question"].strip():
        parts.append(f'<div class="pqa-resolved">理解为：{esc_html(a["resolved_question"])}</div>')
    if a["refused"]:
        lines = [esc_html(x) for x in a["text"].split("\n")]
        parts.append(callout("invalid" if a["kind"] == "invalid" else "refusal", "<br>".join(lines)))
        return "\n\n".join(parts)
    body = inert_markdown(a["markdown"])
    cut = body.find("**来源**")
    if cut >= 0:
        body = body[:cut]
    blocks = [b for b in body.split("\n\n") if b.strip()]
    if a["region_note"] and blocks:
        blocks = blocks[1:]  # the lead paragraph is the region note; shown as a callout instead
        parts.append(callout("region", esc_html(a["region_note"])))
    for b in blocks:
        if b.lstrip().startswith(">"):
            continue  # validity notes: rendered below as callouts
        parts.append(glue_marks(b, turn))
    for note in a["notes"]:
        parts.append(callout("expired", esc_html(note)))
    if a["citations"]:
        refs = " ".join(f'<a class="pqa-ref" href="#pqa-src-{turn}-{int(c["n"])}"><span class="pqa-nb">[{int(c["n"])}]</span> '
                        f'{esc_html(source_title(c))}</a>' for c in a["citations"])
        parts.append(f'<div class="pqa-refs">来源：{refs}</div>')
    return "\n\n".join(parts)


def stream_units(message: str) -> list[str]:
    """Prefixes of ``message`` to show one after another (line by line, long lines by sentence)."""
    out: list[str] = []
    lines = message.split("\n")
    done = ""
    for i, line in enumerate(lines):
        sep = "\n" if i < len(lines) - 1 else ""
        if line.startswith("<") or len(line) < 60:
            done += line + sep
            out.append(done)
            continue
        pieces = re.split(r"(?<=[。；！？])(?![^<]*>)", line)
        acc = ""
        for p in pieces:
            if not p:
                continue
            acc += p
            if acc.count("<span") == acc.count("</span>"):  # never cut inside a glued mark
                out.append(done + acc)
        done += line + sep
        if not out or out[-1] != done:
            out.append(done)
    return [u for j, u in enumerate(out) if u.strip() and (j == 0 or u != out[j - 1])] or [message]


def copy_text(a: dict) -> str:
    """The plain text to paste into a message: the statements, then the numbered sources.

    The sources name the policy (《title》（文号）, issuer, date, region,
    section) without repeating the quoted sentence the statement already says.
    """
    text = a["text"]
    if a["refused"] or not a["citations"]:
        return text
    body = text.split("\n\n来源：")[0].rstrip()
    lines = [body, "", "来源："]
    for c in a["citations"]:
        parts = [source_title(c)] + [str(c[k]) for k in ("issuer", "date", "region", "section") if c.get(k)]
        lines.append(f"[{int(c['n'])}] " + "，".join(parts))
    return "\n".join(lines)


# =============================================================================
# the sources panel
# =============================================================================


def _spans(passage: str, quote: str) -> list[tuple[int, int]]:
    """Where the quoted sentence(s) stand in the passage (merged, sorted)."""
    if not passage or not quote:
        return []
    spans: list[tuple[int, int]] = []
    i = passage.find(quote)
    if i >= 0:
        return [(i, i + len(quote))]
    pieces = re.split(r"(?<=[。；;！？!?])|\s+\d{1,2}\.\s+", quote)
    for p in pieces:
        p = (p or "").strip()
        if len(p) < 4:
            continue
        j = passage.find(p)
        if j < 0 and len(p) > 12:
            p = p.rstrip("。；;！？!?")
            j = passage.find(p)
        if j >= 0:
            spans.append((j, j + len(p)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(passage: str, quote: str) -> str:
    """The passage as escaped HTML with the supporting sentence(s) in ``<mark>``."""
    out, pos = [], 0
    for s, e in _spans(passage, quote):
        out.append(esc_html(passage[pos:s]))
        out.append(f"<mark>{esc_html(passage[s:e])}</mark>")
        pos = e
    out.append(esc_html(passage[pos:]))
    return "".join(out).replace("\n", "<br>")


def source_card(c: dict, turn: int, open_: bool) -> str:
    meta = [("发文机关", c.get("issuer")), ("日期", c.get("date")), ("地区", c.get("region")), ("章节", c.get("section"))]
    rows = "".join(f'<div class="pqa-meta"><span>{k}</span>{esc_html(v)}</div>' for k, v in meta if v)
    passage = c.get("passage") or c.get("text") or ""
    return (
        f'<details class="pqa-src" id="pqa-src-{int(turn)}-{int(c["n"])}"{" open" if open_ else ""}>'
        f'<summary><b>[{int(c["n"])}]</b> {esc_html(source_title(c))}</summary>'
        f'{rows}<div class="pqa-passage">{highlight(passage, c.get("text", ""))}</div>'
        f'<div class="pqa-docid">文档：{esc_html(c.get("doc_id", ""))}</div></details>'
    )


def sources_html(turns: Sequence[dict]) -> str:
    """The sources panel: every turn's citations, newest first (its cards open)."""
    if not turns:
        return '<div class="pqa-sources-empty">提问后，这里显示每条回答引用的原文出处，支持句以高亮标出。</div>'
    out = []
    last = len(turns)
    for t in range(last, 0, -1):
        turn = turns[t - 1]
        cites = turn["answer"]["citations"]
        head = f'<div class="pqa-turn-head">第{t}问：{esc_html(turn["question"])}</div>'
        body = "".join(source_card(c, t, t == last) for c in cites) or '<div class="pqa-none">（本问没有引用来源）</div>'
        out.append(f'<section class="pqa-turn">{head}{body}</section>')
    return "".join(out)


def answer_view(a) -> dict:
    """Everything the UI keeps of an Answer (plain data; citations include passages)."""
    return {
        "question": a.question,
        "resolved_question": a.resolved_question,
        "text": a.text,
        "markdown": a.markdown,
        "refused": bool(a.refused),
        "kind": a.kind,
        "region_note": a.region_note,
        "notes": list(a.notes),
        "citations": [dataclasses.asdict(c) for c in a.citations],
        "json": a.to_json(),
    }


# =============================================================================
# the knowledge-base tab
# =============================================================================


def region_choices(docs) -> list[str]:
    """Province, city and full regions of the documents (for the region filter)."""
    out: set[str] = set()
    for m in docs:
        if m.province:
            out.add(m.province)
        if m.province and m.city and m.city != m.province:
            out.add(m.province + m.city)
        if m.region:
            out.add(m.region)
    return sorted(out)


def doc_label(m) -> str:
    title = m.title or "(无标题)"
    return f"{title[:40]}{'…' if len(title) > 40 else ''} [{m.doc_id}]"


# (column header, relative width): the widths add up to 100 so the table fits its box
DOC_COLUMNS = (("文档ID", 13), ("标题", 25), ("发文机关", 13), ("日期", 9), ("文号", 12), ("适用范围", 12),
               ("类型", 7), ("有效期", 9))
DOC_TYPES = {"notice": "通知", "plan": "方案/意见", "work-points": "工作要点", "interview": "访谈", "other": "其他"}
ISSUER_LEVELS = {"national": "国家级", "province": "省级", "city": "市级", "county": "县（区）级", "park": "园区"}


def _get(s: dict, key: str):
    v = s.get(key)
    return "、".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v or "")


def validity_label(s: dict) -> str:
    """``valid_from``–``valid_to`` when the document states them, else its stated period."""
    f, t = _get(s, "valid_from"), _get(s, "valid_to")
    if f and t:
        return f"{f} 至 {t}"
    if t:
        return f"至 {t}"
    if f:
        return f"{f} 起"
    return _get(s, "period")


def doc_rows(docs) -> list[list[str]]:
    """One row per document: the plain text of the :data:`DOC_COLUMNS` cells."""
    rows = []
    for m in docs:
        s = m.summary()
        rows.append([_get(s, "doc_id"), _get(s, "title"), _get(s, "issuer"), _get(s, "date"), _get(s, "doc_number"),
                     _get(s, "jurisdiction") or _get(s, "region"),
                     DOC_TYPES.get(_get(s, "doc_type"), _get(s, "doc_type")), validity_label(s)])
    return rows


def _notes(m) -> list[tuple[int, str, str]]:
    """Second lines under some cells: (column, css class, text) — issuer level, version links."""
    s = m.summary()
    out = []
    if _get(s, "supersedes"):
        out.append((1, "pqa-ver", f"取代：{_get(s, 'supersedes')}"))
    if _get(s, "superseded_by"):
        out.append((1, "pqa-ver pqa-ver-old", f"已被取代：{_get(s, 'superseded_by')}"))
    level = ISSUER_LEVELS.get(_get(s, "issuer_level"))
    if level:
        out.append((2, "pqa-level", level))
    return out


def doc_table_html(docs, admin: bool = False, original_url=None) -> str:
    """The documents table: fixed layout, every column visible at 1280 px (long cells wrap).

    Version links and the issuer's level are second lines in the 标题 and
    发文机关 cells rather than columns of their own.  With ``admin`` a 原文件
    column links each kept original to its download (``original_url(doc_id)``;
    the server checks the admin again).
    """
    cols = list(DOC_COLUMNS) + ([("原文件", 7)] if admin else [])
    total = sum(w for _, w in cols)
    head = "".join(f'<col style="width:{w * 100 / total:.2f}%">' for _, w in cols)
    ths = "".join(f"<th>{esc_html(h)}</th>" for h, _ in cols)
    body = []
    for m, row in zip(docs, doc_rows(docs)):
        cells = [esc_html(v) or "—" for v in row]
        for i, cls, text in _notes(m):
            cells[i] += f'<div class="{cls}">{esc_html(text)}</div>'
        tds = "".join(f"<td>{c}</td>" for c in cells)
        if admin:
            url = original_url(m.doc_id) if original_url else ""
            tds += f'<td><a class="pqa-dl" href="{esc_html(url)}" download>{icon("download")}下载</a></td>' if url else "<td>—</td>"
        old = ' class="pqa-old-version"' if m.summary().get("superseded_by") else ""
        body.append(f"<tr{old}>{tds}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(cols)}">知识库中还没有文档</td></tr>')
    return (f'<div class="pqa-table-wrap"><table class="pqa-doc-table"><colgroup>{head}</colgroup>'
            f'<thead><tr>{ths}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def chunks_html(meta, chunks) -> str:
    """The chunk viewer: a document's passages in order, with their section and id."""
    if meta is None:
        return '<div class="pqa-chunks-empty">选择一篇文档，查看它被切分成的段落（检索和引用的单位）。</div>'
    head = (f'<div class="pqa-chunks-head"><b>{esc_html(meta.title or meta.doc_id)}</b> '
            f'<span class="pqa-docid">{esc_html(meta.doc_id)} · 共 {len(chunks)} 个段落</span></div>')
    items = []
    for i, c in enumerate(chunks, 1):
        section = f'<span class="pqa-chunk-sec">{esc_html(c.section)}</span>' if c.section else ""
        items.append(f'<li class="pqa-chunk"><div class="pqa-chunk-meta"><b>#{i}</b> {section}'
                     f'<span class="pqa-docid">{esc_html(c.chunk_id)}</span></div>'
                     f'<div class="pqa-passage">{esc_html(c.text).replace(chr(10), "<br>")}</div></li>')
    return head + f'<ol class="pqa-chunks">{"".join(items)}</ol>'


def doc_items_html(meta, items) -> str:
    """A document's policy items (what each granting clause gives, to whom, on what
    conditions), as an expandable table shown above its passages; "" without a document."""
    if meta is None:
        return ""
    if not items:
        return ('<details class="pqa-doc-items"><summary>政策事项：未从本文件识别出奖补条款</summary>'
                '<p>本文件没有写明金额、比例或上限的奖励、补助条款。</p></details>')
    rows = []
    for n, it in enumerate(items, 1):
        amount = it.amount_text or "—"
        cap = f"{it.cap_wan:g}万元" if it.cap_wan is not None else "—"
        conds = "<br>".join(esc_html(c.text) for c in it.conditions) or "—"
        valid = f"至{it.valid_to}" if it.valid_to else "—"
        rows.append(f'<tr><td>{n}</td><td>{esc_html(it.kind)}</td><td>{esc_html(it.label() or "—")}</td>'
                    f'<td>{esc_html(it.tier or "—")}</td><td>{esc_html(amount)}</td><td>{esc_html(cap)}</td>'
                    f'<td>{conds}</td><td>{esc_html(valid)}</td>'
                    f'<td><span class="pqa-docid">{esc_html(it.section or it.chunk_id)}</span></td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("序号", "类别", "对象", "档次", "金额标准", "上限", "条件", "有效期", "条款"))
    return (f'<details class="pqa-doc-items" open><summary>政策事项（从本文件识别出 {len(items)} 项，'
            f'政策匹配据此计算）</summary><div class="pqa-table-wrap"><table class="pqa-items-table">'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></details>')


def status_html(msg: str, ok: bool) -> str:
    cls = "pqa-status-ok" if ok else "pqa-status-err"
    return f'<div class="{cls}">{icon("ok" if ok else "error")}{esc_html(msg)}</div>'


# =============================================================================
# the 政策匹配 tab
# =============================================================================

# condition status -> (css class, icon, label shown before the condition; readable without icons)
CONDITION_MARKS = {
    "met": ("pqa-met", "ok", "满足"),
    "not_met": ("pqa-notmet", "error", "不满足"),
    "needs_checking": ("pqa-check", "info", "需核实"),
}
# MatchResult's region_rule values, as users read them
REGION_RULES = {
    "local": "本地政策", "above": "上级政策，覆盖本地", "national": "全国性政策", "part": "辖区内部分地区的政策",
    "unknown": "文件未标明地区", "no_profile_region": "画像未填地区", "elsewhere": "其他地区，不适用",
}
MATCH_COLUMNS = (("序号", 4), ("政策事项", 15), ("金额标准", 13), ("预计金额", 8), ("条件", 25), ("适用地区", 11),
                 ("状态", 8), ("出处", 16))


def _fmt_wan(v) -> str:
    if v is None or v == "":
        return "—"
    return f"{v}万元"


def match_flags(item: dict) -> list[tuple[str, str]]:
    """The state badges of one result item: (css class, text)."""
    out = []
    if item.get("applicable"):
        out.append(("pqa-ok", "可申请"))
    elif item.get("region_rule") == "elsewhere":
        out.append(("pqa-no", "其他地区"))
    elif any(c.get("status") == "not_met" for c in item.get("conditions") or ()):
        out.append(("pqa-no", "条件不符"))
    if item.get("superseded"):
        out.append(("pqa-old", "已被新版取代"))
    if item.get("expired"):
        out.append(("pqa-old", "已过期"))
    return out


def conditions_html(conditions) -> str:
    """Each condition with its mark (满足 / 不满足 / 需核实); the region rule is shown in its own column."""
    rows = []
    for c in conditions:
        cls, ic, label = CONDITION_MARKS.get(c.get("status"), CONDITION_MARKS["needs_checking"])
        text = str(c.get("text", ""))
        if c.get("status") == "needs_checking":  # the mark already says so
            text = re.sub(r"（需(?:人工)?核实）$", "", text)
        rows.append(f'<li class="pqa-cond {cls}">{icon(ic)}<span class="pqa-cond-label">{label}</span>'
                    f'{esc_html(text)}</li>')
    return f'<ul class="pqa-conds">{"".join(rows)}</ul>' if rows else "—"


def match_table_html(items, css_class: str = "pqa-match-table") -> str:
    """A result table (``MatchResult.to_json()["items"]`` or ``["elsewhere"]``): fixed layout, every value escaped."""
    total = sum(w for _, w in MATCH_COLUMNS)
    head = "".join(f'<col style="width:{w * 100 / total:.2f}%">' for _, w in MATCH_COLUMNS)
    ths = "".join(f"<th>{esc_html(h)}</th>" for h, _ in MATCH_COLUMNS)
    body = []
    for n, it in enumerate(items, 1):
        conds = list(it.get("conditions") or [])
        region_cond = conds[0] if conds and str(conds[0].get("text", "")).startswith("适用地区") else None
        other = conds[1:] if region_cond else conds
        rule = REGION_RULES.get(it.get("region_rule", ""), "")
        region_cell = esc_html(it.get("region", "")) + (f'<div class="pqa-rule">{esc_html(rule)}</div>' if rule else "")
        if region_cond:
            cls, ic, label = CONDITION_MARKS.get(region_cond.get("status"), CONDITION_MARKS["needs_checking"])
            region_cell += f'<div class="pqa-cond {cls}">{icon(ic)}<span class="pqa-cond-label">{label}</span></div>'
        flags = "".join(f'<span class="pqa-badge {c}">{esc_html(t)}</span>' for c, t in match_flags(it)) or "—"
        if it.get("superseded_by"):
            flags += f'<div class="pqa-rule">新版：{esc_html("、".join(it["superseded_by"]))}</div>'
        estimate = _fmt_wan(it.get("estimate_wan"))
        cells = [str(n), esc_html(it.get("benefit", "")), esc_html(it.get("amount_text", "")), esc_html(estimate),
                 conditions_html(other), region_cell, flags,
                 f'<div class="pqa-cite-text">{esc_html(it.get("citation", ""))}</div>'
                 f'<div class="pqa-docid">{esc_html(it.get("doc_id", ""))}</div>']
        row_cls = "pqa-row-ok" if it.get("applicable") else "pqa-row-no"
        body.append(f'<tr class="{row_cls}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(MATCH_COLUMNS)}">没有符合的政策事项</td></tr>')
    return (f'<div class="pqa-table-wrap"><table class="{esc_html(css_class)}"><colgroup>{head}</colgroup>'
            f'<thead><tr>{ths}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def match_result_html(result: dict) -> str:
    """The 政策匹配 tab's result: a summary, the table of this region's items (applicable
    first, by amount), and the other regions' items ("elsewhere"), from ``MatchResult.to_json()``."""
    items = list(result.get("items") or [])
    elsewhere = list(result.get("elsewhere") or [])
    ok = [it for it in items if it.get("applicable")]
    region = result.get("region") or ""
    parts = []
    where = f"所在地区按「{esc_html(region)}」匹配" if region else "未填或无法识别所在地区：各地政策均列出，是否适用需核实"
    parts.append(f'<div class="pqa-match-summary"><b>可申请 {len(ok)} 项</b>（共列出本地及上级政策 {len(items)} 项）；{where}。'
                 "条件标记：满足 / 不满足 / 需核实（画像未填或无法判断的条件）。</div>")
    if result.get("unknown_fields"):
        parts.append(callout("invalid", "未识别的字段，已忽略：" + esc_html("、".join(result["unknown_fields"]))))
    parts.append(match_table_html(items))
    if elsewhere:
        parts.append(f'<div class="pqa-elsewhere-head">其他地区的同类政策（{len(elsewhere)} 项，不适用于本企业，仅供参考）</div>')
        parts.append(match_table_html(elsewhere, "pqa-match-table pqa-elsewhere"))
    return '<div class="pqa-match">' + "".join(parts) + "</div>"


def match_empty_html() -> str:
    return ('<div class="pqa-sources-empty">填写企业画像后点击「匹配政策」：列出可申请的奖励补助，'
            "按金额排序，逐条标出条件是否满足，并注明出处。</div>")
