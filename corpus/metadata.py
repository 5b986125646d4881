"""Extract document metadata (title, issuer, dates, 文号, region, type, period).

Works on :func:`policyqa.corpus.clean.prepare`-d text (characters normalised,
traditional converted, debris lines still present, since government sites put
发布时间/文号 in them).  A field the text does not give stays empty: nothing
is guessed from the file name or from other documents.
"""

from __future__ import annotations

import re
from datetime import date as _date

from policyqa.corpus.regions import dominant_region
from policyqa.corpus.types import DocMeta, Period

_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号")
_ORG_SUFFIX = r"(?:办公室|领导小组|委员会|人民政府|政府|管委会|局|厅|委|部|中心|办)"
_ORG_LINE = re.compile(rf"^[\u4e00-\u9fff（）()]{{4,40}}{_ORG_SUFFIX}$")
# words that end the title of a policy document or of a part of one
PLAN_WORDS = ("方案", "意见", "要点", "计划", "办法", "细则", "规划", "通知", "规定", "清单", "决定", "措施")


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
    """A line that is an organisation's name alone, as in a 落款."""
    return bool(_ORG_LINE.match(s))


def is_date_line(s: str) -> bool:
    """A line that is a date alone (2023年3月19日, 2023-03-19)."""
    return _is_date_line(s)


def _is_date_line(s: str) -> bool:
    return bool(_DATE_CN.fullmatch(s) or _DATE_ISO.fullmatch(s))


def _labelled(text: str, labels: tuple[str, ...]) -> str:
    """Value after ``label:`` anywhere in a line (stops at the next label)."""
    for lab in labels:
        m = re.search(rf"{lab}\s*[:：]\s*([^\n]*)", text)
        if m:
            return m.group(1).strip()
    return ""


def extract_title(text: str) -> str:
    lines = [ln for ln in _lines(text) if ln]
    named = _labelled(text, ("信息名称", "标题"))
    if named:
        return named
    from policyqa.corpus.clean import is_debris_line

    body = [ln for ln in lines if not is_debris_line(ln)]
    if body:
        first = body[0]
        if (
            4 <= len(first) <= 80
            and not re.search(r"[。；;]", first)
            and not first.endswith((":", "："))
            and not _is_date_line(first)
            and not first.startswith(("请问", "[主持人]", "[嘉宾]"))
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
    return tuple(dict.fromkeys(found))


def primary_date(dates: tuple[tuple[str, str], ...]) -> str:
    order = ("成文日期", "落款", "访谈时间", "发布时间")
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


def extract_issuer(text: str) -> str:
    lines = [ln for ln in _lines(text) if ln]
    for i, ln in enumerate(lines[:-1]):  # 落款: organisation line then a date line
        if _ORG_LINE.match(ln) and _is_date_line(lines[i + 1]):
            return ln
    m = re.search(r"访谈嘉宾\s*[:：]\s*([^\s:：]{2,30}?" + _ORG_SUFFIX + r")", text)
    if m:
        return m.group(1)
    m = re.search(r"([\u4e00-\u9fff]{2,30}?(?:局|委员会|委|办公室|厅|政府))(?:主要)?负责(?:人|同志)", text)
    if m:
        return m.group(1)
    v = _labelled(text, ("发布机构", "发文机关"))
    return v.split("成文日期")[0].strip() if v else ""


def detect_type(text: str, title: str) -> str:
    if re.search(r"\[(主持人|嘉宾)\]", text) or "访谈" in text[:300]:
        return "interview"
    if sum(1 for ln in _lines(text) if ln.startswith("请问") and ln.endswith(("?", "？"))) >= 2:
        return "interview"
    if "工作要点" in title:
        return "work-points"
    if title.startswith("关于") and title.endswith("通知"):
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
    ends = re.findall(r"到\s*(\d{4})\s*年", text)
    if ends:
        y = max(set(ends), key=ends.count)
        return Period(None, int(y), f"到{y}年")
    return None


def extract_metadata(doc_id: str, prepared_text: str, source: str = "", title_hint: str = "") -> DocMeta:
    """All metadata of one document from its :func:`prepare`-d text."""
    title = extract_title(prepared_text) or title_hint
    dates = extract_dates(prepared_text)
    doc_type = detect_type(prepared_text, title)
    region = dominant_region(prepared_text)
    return DocMeta(
        doc_id=doc_id,
        title=title,
        issuer=extract_issuer(prepared_text),
        date=primary_date(dates),
        dates=dates,
        doc_number=extract_doc_number(prepared_text),
        region=region.full,
        province=region.province,
        city=region.city if region.city != region.province else "",
        district=region.district,
        doc_type=doc_type,
        period=extract_period(prepared_text, title, doc_type),
        source=source,
    )
