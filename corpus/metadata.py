"""Extract document metadata (title, issuer, dates, 文号, jurisdiction, type, period, validity).

Works on :func:`policyqa.corpus.clean.prepare`-d text (characters normalised,
traditional converted, debris lines still present, since government sites put
发布时间/文号 in them).  A field the text does not give stays empty: nothing
is guessed from the file name or from other documents.
"""

from __future__ import annotations

import re
from datetime import date as _date

from policyqa.corpus.jurisdiction import derive_jurisdiction, is_org_name, issuer_orgs, org_suffixes
from policyqa.corpus.regions import dominant_region
from policyqa.corpus.tables import is_table_row
from policyqa.corpus.turns import asks, turn_role
from policyqa.corpus.types import DocMeta, Period
from policyqa.corpus.validity import extract_validity

_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号")
_ORG_SUFFIX = r"(?:办公室|领导小组|委员会|人民政府|政府|管委会|局|厅|委|部|中心|办)"
_ORG_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{4,40}}{_ORG_SUFFIX}$")
# words that end the title of a policy document or of a part of one
PLAN_WORDS = ("方案", "意见", "要点", "计划", "办法", "细则", "规划", "通知", "规定", "清单", "决定", "措施", "政策")


def _iso(y: str, m: str, d: str) -> str:
    try:
        return _date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return ""


def _first_date(s: str) -> str:
    m = _DATE_CN.search(s) or _DATE_ISO.search(s)
    return _iso(*m.groups()) if m else ""


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n")]


def is_signature_org(s: str) -> bool:
    """A line that is an organisation's name alone, or several of them
    (``工业和信息化部 财政部``), as in a 落款."""
    return bool(_ORG_LINE.match(s)) or issuer_orgs(s) is not None


def is_date_line(s: str) -> bool:
    """A line that is a date alone (2023年3月19日, 2023-03-19)."""
    return _is_date_line(s)


def _is_date_line(s: str) -> bool:
    return bool(_DATE_CN.fullmatch(s) or _DATE_ISO.fullmatch(s))


def _labelled(text: str, labels: tuple[str, ...]) -> str:
    """Value after ``label:`` anywhere in a line (stops at the next table cell)."""
    for lab in labels:
        m = re.search(rf"{lab}\s*[:：]\s*([^\n|]*)", text)
        if m:
            return m.group(1).strip()
    return ""


TITLE_END = re.compile(rf"(?:{'|'.join(PLAN_WORDS)}|公告|通告|决议|纲要|条例|指引|指南|导则|制度|批复|函)[)）]?$")
_PAREN_DATE = re.compile(r"^[（(]\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)[^）)]{0,40}[）)]$")


def _head_lines(text: str, limit: int = 30) -> list[str]:
    """The first non-empty, non-debris lines, up to the first prose line (included)."""
    from policyqa.corpus.clean import is_debris_line

    out = []
    for ln in _lines(text):
        ln = re.sub(r"^#{1,6}\s+", "", ln)  # a Markdown heading
        if not ln or is_debris_line(ln):
            continue
        out.append(ln)
        if len(out) >= limit or (re.search(r"[。；;]", ln) and len(ln) > 30):
            break
    return out


def _own_title(text: str) -> tuple[str, int]:
    """The document's own title (关于…的通知/意见/办法, possibly over 2–3 lines)
    among its head lines, and the index of its first line; ("", -1) if none."""
    head = _head_lines(text)
    for i, ln in enumerate(head):
        if re.search(r"[。；;]", ln) or ln.endswith((":", "：")) or ln.startswith(("现将", "根据", "附件")) or is_table_row(ln):
            continue
        if issuer_orgs(ln) is not None or _PAREN_DATE.match(ln) or _is_date_line(ln) or _DOC_NUMBER.search(ln) or ln.endswith("文件"):
            continue
        for n in (1, 2, 3):
            block = head[i : i + n]
            if len(block) < n or any(
                re.search(r"[。；;]", b) or _is_date_line(b) or _PAREN_DATE.match(b) or is_table_row(b)
                or _DOC_NUMBER.search(b) or b.endswith("文件") or issuer_orgs(b) is not None
                for b in block
            ):
                break
            joined = "".join(block)
            if 6 <= len(joined) <= 120 and TITLE_END.search(joined):
                if "关于" in joined or i == 0 or (n == 1 and _is_titleish(head, i, n)):
                    return joined, i
    return "", -1


def _is_titleish(head: list[str], i: int, n: int) -> bool:
    """A block followed by a date in parentheses, an org line or the body: a title."""
    nxt = head[i + n] if i + n < len(head) else ""
    return bool(_PAREN_DATE.match(nxt)) or bool(re.search(r"[。；;，]", nxt)) or nxt.endswith((":", "："))


def extract_title(text: str) -> str:
    """The document's title: a labelled 标题/信息名称, else its own 关于…的通知-style
    title line(s), else a first line that reads like a title, else the
    document a cover notice issues (现将《X》印发)."""
    named = _labelled(text, ("信息名称", "标题"))
    if named:
        return named
    own, _ = _own_title(text)
    if own:
        return own
    from policyqa.corpus.clean import is_debris_line

    lines = [ln for ln in _lines(text) if ln]
    body = [ln for ln in lines if not is_debris_line(ln)]
    if body:
        first = body[0]
        if (
            4 <= len(first) <= 80
            and not re.search(r"[。；;]", first)
            and not first.endswith((":", "："))
            and not _is_date_line(first)
            and not _PAREN_DATE.match(first)
            and issuer_orgs(first) is None
            and not first.startswith("请问") and turn_role(first) is None
        ):
            return first
    # A cover notice: 现将《X》(及《Y》…)印发 — the document is X.
    m = re.search(r"现将《([^》]{4,80})》", text)
    if m:
        return m.group(1)
    return ""


def extract_dates(text: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for label in ("成文日期", "发文日期", "印发日期"):
        v = _labelled(text, (label,))
        if v and _first_date(v):
            found.append(("成文日期", _first_date(v)))
            break
    m = re.search(r"发布\s*[:：]?\s*时间\s*[:：]\s*(\S+)", text) or re.search(r"发布(?:时间|日期)\s*[:：]\s*(\S+)", text)
    if m and _first_date(m.group(1)):
        found.append(("发布时间", _first_date(m.group(1))))
    v = _labelled(text, ("访谈时间",))
    if v and _first_date(v):
        found.append(("访谈时间", _first_date(v)))
    for ln in _lines(text):  # 落款: a date alone on its line
        if _is_date_line(ln):
            found.append(("落款", _first_date(ln)))
            break
    for ln in _head_lines(text, 12):  # 题注: (2023年2月8日) under the title
        m = _PAREN_DATE.match(ln)
        if m and _first_date(m.group(1)):
            found.append(("题注", _first_date(m.group(1))))
            break
    return tuple(dict.fromkeys(found))


def primary_date(dates: tuple[tuple[str, str], ...]) -> str:
    order = ("成文日期", "落款", "题注", "访谈时间", "发布时间")
    by = dict(dates)
    for lab in order:
        if by.get(lab):
            return by[lab]
    return ""


def extract_doc_number(text: str) -> str:
    v = _labelled(text, ("文号", "发文字号"))
    m = _DOC_NUMBER.search(v) if v else None
    if m:
        return re.sub(r"\s+", "", m.group(0))
    for ln in _lines(text)[:15]:  # a 文号 standing alone near the top
        if _DOC_NUMBER.fullmatch(ln):
            return re.sub(r"\s+", "", ln)
    return ""


def _signature(lines: list[str]) -> str:
    """The 落款: organisation line(s) right above a date line (the first such)."""
    for i, ln in enumerate(lines[:-1]):
        if not _is_date_line(lines[i + 1]) or not is_signature_org(ln):
            continue
        orgs = [ln]
        j = i - 1
        while j >= 0 and len(orgs) < 4 and issuer_orgs(lines[j]) is not None and not _is_date_line(lines[j]):
            orgs.insert(0, lines[j])  # joint issuers signing on several lines
            j -= 1
        return " ".join(" ".join(issuer_orgs(o) or [o]) for o in orgs)
    return ""


def _title_issuer(text: str) -> str:
    """The issuer named before 关于 in the title, or on the line above the title
    (中共X县委 X县人民政府 / X县人民政府文件)."""
    title, i = _own_title(text)
    if title:
        m = re.match(r"^(.{2,60}?)关于", title)
        if m:
            orgs = issuer_orgs(m.group(1).strip())
            if orgs:
                return " ".join(orgs)
        head = _head_lines(text)
        for k in range(i - 1, max(-1, i - 4), -1):
            ln = head[k]
            if _DOC_NUMBER.fullmatch(ln):
                continue
            orgs = issuer_orgs(ln)
            if orgs:
                return " ".join(orgs)
            if ln.endswith("文件") and is_org_name(ln[:-2]):
                return ln[:-2]
            break
    return ""


def extract_issuer(text: str) -> str:
    """The issuing body: the 落款, else the title's issuer, else a labelled
    发布机构, else an interviewed body.  Joint issuers are separated by spaces."""
    return issuer_and_source(text)[0]


def issuer_and_source(text: str) -> tuple[str, str]:
    """:func:`extract_issuer` and where it was read: "signature", "title",
    "label" or "mention" (a body named in running text: 访谈嘉宾, X负责人 —
    reliable in an interview, a guess anywhere else)."""
    lines = [ln for ln in _lines(text) if ln]
    sig = _signature(lines)
    if sig:
        return sig, "signature"
    t = _title_issuer(text)
    if t:
        return t, "title"
    v = _labelled(text, ("发布机构", "发文机关"))
    v = v.split("成文日期")[0].strip() if v else ""
    if v and (issuer_orgs(v) or is_org_name(v)):
        return v, "label"
    m = re.search(r"访谈嘉宾\s*[:：]\s*([^\s:：]{2,30}?" + _ORG_SUFFIX + r")", text)
    if m:
        return m.group(1), "mention"
    m = re.search(r"([\u4e00-\u9fff]{2,30}?(?:局|委员会|委|办公室|厅|政府))(?:主要)?负责(?:人|同志)", text)
    if m:
        return m.group(1), "mention"
    return v, "label" if v else ""


def _metadata_view(text: str) -> str:
    """``text`` with flattened lines (a page or document on one line, its line
    breaks turned into spaces) split back at those spaces, keeping joint
    issuers (财政部 海关总署 税务总局…) together — for reading metadata only."""
    from policyqa.corpus.layout import is_flattened

    lines = text.split("\n")
    single = sum(1 for ln in lines if ln.strip()) <= 3
    out: list[str] = []
    for ln in lines:
        if not (is_flattened(ln) or (single and len(ln) > 200 and ln.count(" ") >= 3)):
            out.append(ln)
            continue
        parts: list[str] = []
        for tok in re.split(r"\s+", ln.strip()):
            head = re.match(rf"[\u4e00-\u9fff（）()]{{1,40}}?(?:{'|'.join(org_suffixes())})", tok)
            if parts and issuer_orgs(parts[-1]) is not None and head and (is_org_name(tok) or tok[head.end():].startswith("关于")):
                parts[-1] += " " + tok  # one more joint issuer, or the issuer list running into 关于…
            else:
                parts.append(tok)
        out.extend(parts)
    return "\n".join(out)


def detect_type(text: str, title: str) -> str:
    if re.search(r"\[(主持人|嘉宾)\]", text) or "访谈" in text[:300]:
        return "interview"
    if sum(1 for ln in _lines(text) if ln.startswith("请问") and ln.endswith(("?", "？"))) >= 2:
        return "interview"
    roles = [t[0] for t in map(turn_role, _lines(text)) if t]
    if sum(map(asks, roles)) >= 2 and len(set(roles)) >= 2:  # 「问：…」「答：…」 turns
        return "interview"
    if "工作要点" in title:
        return "work-points"
    if (title.startswith("关于") or "关于印发" in title or "关于转发" in title) and title.endswith("通知"):
        return "notice"
    if any(w in title for w in ("方案", "意见", "计划", "规划", "措施", "办法")):
        return "plan"
    if "通知" in title:
        return "notice"
    return "other"


def extract_period(text: str, title: str, doc_type: str) -> Period | None:
    if doc_type == "interview":
        return None  # interviews speak of "今年"; no policy period is stated
    m = re.search(r"((\d{4})\s*年?\s*[-—–~至到]\s*(\d{4})\s*年?)", title)
    if m:
        return Period(int(m.group(2)), int(m.group(3)), m.group(1))
    m = re.search(r"((\d{4})\s*年(?:度)?)(?:工作要点|工作计划|行动计划|度)", title)
    if m:
        y = int(m.group(2))
        return Period(y, y, m.group(1))
    m = re.search(r"(?:适用时间|执行期|实施期|有效期)[^。\n]{0,8}?((\d{4})\s*年?\s*[-—–~至到]\s*(\d{4})\s*年)", text)
    if m:
        return Period(int(m.group(2)), int(m.group(3)), m.group(1))
    return None  # 到2027年 is a target, not a period


def extract_metadata(doc_id: str, prepared_text: str, source: str = "", title_hint: str = "") -> DocMeta:
    """All metadata of one document from its :func:`prepare`-d text.

    ``title_hint`` (a page's <title>, a file's title property) is used only
    when the text states no title of its own.
    """
    view = _metadata_view(prepared_text)
    title = extract_title(view) or title_hint
    dates = extract_dates(view)
    doc_type = detect_type(prepared_text, title)
    issuer, issuer_source = issuer_and_source(view)
    doc_number = extract_doc_number(view)
    # a body merely named in running text decides the jurisdiction only in an interview
    decisive = issuer if issuer_source != "mention" or doc_type == "interview" else ""
    juris = derive_jurisdiction(decisive, doc_number, title, view)
    if juris.known:
        region = juris.region
        region_label = juris.label
    else:
        region = dominant_region(prepared_text)
        region_label = region.full
    primary = primary_date(dates)
    published = dict(dates).get("发布时间", "")
    validity = extract_validity(prepared_text, primary, published) if doc_type != "interview" else None
    return DocMeta(
        doc_id=doc_id,
        title=title,
        issuer=issuer,
        date=primary,
        dates=dates,
        doc_number=doc_number,
        region=region_label,
        province=region.province,
        city=region.city if region.city != region.province else "",
        district=region.district,
        doc_type=doc_type,
        period=extract_period(prepared_text, title, doc_type),
        source=source,
        issuer_level=juris.level,
        jurisdiction=juris.label if juris.known else "",
        valid_from=validity.valid_from if validity else "",
        valid_to=validity.valid_to if validity else "",
        validity=validity.text if validity else "",
        repeals=validity.repeal.text if validity else "",
    )
