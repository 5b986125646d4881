"""Split a cleaned document into citable chunks.

Government documents are parsed by their heading hierarchy.  Which heading
styles a document uses, and how they nest, is read from the document itself:

* styles: 第X编/部分, 第X章, 第X节, 第X条, 一、 (一．), （一）, 1. / 1、, （1）, ①;
* nesting: a heading of a style already open closes everything below it and
  becomes its sibling; a style new to the open path nests under it — unless
  the document has already shown it above the open style, or it is certainly
  higher (第X编 > 第X章 > 第X节 > all others; 一、 > （一） > 1. > （1） > ①).
  So 「第X章 > 第X条 > （一） > 1.」, 「一、 > （一） > 1.」 and 「一、 > 第X条」
  all come out right, while 第X条 and （一） have no fixed order.

Separately titled parts (a cover notice followed by the 方案/意见/要点 it
issues, 附件) restart the hierarchy.  Every leaf clause is a unit; table rows
(``policyqa.corpus.tables``) are units of their own, under the table's
caption or header row; interview transcripts are split into
question-and-answer units ([主持人]/[嘉宾] or 问：/答： turns, :mod:`policyqa.corpus.turns`, or 请问…？ lines).  A unit
longer than ``max_chars`` is split at sentence ends (。！？；), never inside a
sentence, and a fragment shorter than ``min_chars`` joins its neighbour.  A
parenthesised responsible-unit note (（牵头单位：…；责任单位：…）) becomes the
``responsible`` metadata of the clauses it governs.

``chunk.text == document.text[chunk.start:chunk.end]`` always holds.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from policyqa.corpus.metadata import PLAN_WORDS, is_date_line, is_signature_org
from policyqa.corpus.tables import KV, is_table_row, split_row
from policyqa.corpus.turns import asks, is_question_role, turn_role
from policyqa.corpus.types import Chunk, Document

PREAMBLE = "前言"  # section label of text before a document's first heading (a label we add, not a heading of the document)
_CN_NUM = "一二三四五六七八九十百零〇"
# (style, static level, pattern); the static level is only a prior (see above)
_STYLES: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    ("part", 1, re.compile(rf"^第[{_CN_NUM}\d]+(?:编|部分)")),
    ("chapter", 1, re.compile(rf"^第[{_CN_NUM}\d]+章")),
    ("section", 1, re.compile(rf"^第[{_CN_NUM}\d]+节")),
    ("cn", 1, re.compile(rf"^[{_CN_NUM}]+(?:、|[.．](?!\d))")),
    ("cn_paren", 2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    # not 「第五条、第七条补助奖励」: articles named in a sentence a line break began with
    ("article", 3, re.compile(rf"^第[{_CN_NUM}\d]+条(?![、，,和及与至或第])")),
    ("num", 3, re.compile(r"^\d{1,3}(?:[.．](?!\d)|、)")),
    ("num_paren", 4, re.compile(r"^[（(]\d{1,3}[）)]")),
    ("circled", 5, re.compile(r"^[\u2460-\u2473]")),
)
_HEADINGS = tuple((lvl, pat) for _, lvl, pat in _STYLES)
_TOP = ("part", "chapter", "section")  # certainly above every other style, in this order
_FAMILY = ("cn", "cn_paren", "num", "num_paren", "circled")  # certainly nested in this order
_BARE_NUMBER = re.compile(r"^(\d{1,3})(?=[\u4e00-\u9fff])")  # "18优先推荐…" (missing dot)
_SENT_END = re.compile(r"[。！？；!?;]+[”’」』）)]*")
_NOTE_LINE = re.compile(r"^[（(]\s*(?:牵头单位|责任单位|牵头部门|责任部门)\s*[:：].*[）)]$")
_INNER = r"(?:[^（）()]|[（(][^（）()]*[）)])"
_NOTE_TAIL = re.compile(rf"[（(]({_INNER}*?(?:牵头单位|责任单位|按职责分工负责|负责){_INNER}*)[）)]\s*$")
_PART_MARK = re.compile(r"^附[件表]\s*\d*$")
_QUESTION_LINE = re.compile(r"^请问.{4,}[?？]$")
_ASKS = re.compile(r"[?？]|请问|请您|如何|哪些|什么|是否|怎么|多少|吗")


@dataclass(frozen=True)
class ChunkerConfig:
    """Chunk sizes in characters.

    500/100 was chosen with the evaluation tool over 250, 400 and 600: evidence
    MRR@10 0.922 vs 0.913 (400) on the team set and 0.751 vs 0.726 on the NCP set.
    """

    max_chars: int = 500
    min_chars: int = 100

    def to_dict(self) -> dict:
        return {"name": "policyqa-structure", "version": 5, **asdict(self)}


@dataclass
class _Unit:
    spans: list[tuple[int, int]] = field(default_factory=list)  # line spans
    path: tuple[str, ...] = ()
    key: str = ""
    kind: str = "clause"
    question: str = ""
    responsible: str = ""
    part: int = 0
    heading: bool = False  # the first span is a heading line

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-empty line, whitespace-trimmed."""
    out, pos = [], 0
    for raw in text.split("\n"):
        s = pos + (len(raw) - len(raw.lstrip()))
        e = pos + len(raw.rstrip())
        if e > s:
            out.append((s, e))
        pos += len(raw) + 1
    return out


def heading_style(line: str, expected_number: int | None = None) -> str:
    """Heading style of a line ("" = not a heading): part, chapter, section,
    cn (一、), cn_paren (（一）), article (第X条), num (1.), num_paren ((1)),
    circled (①).  A number glued to text (「18优先推荐」) is a ``num`` heading
    only when it is the number expected next."""
    for style, _, pat in _STYLES:
        if pat.match(line):
            return style
    m = _BARE_NUMBER.match(line)
    if m and expected_number is not None and int(m.group(1)) == expected_number:
        return "num"
    return ""


def heading_level(line: str, expected_number: int | None = None) -> int:
    """Static level of a heading line (0 = not a heading); a prior only — the
    nesting used for chunks is read per document (:class:`_Nesting`)."""
    style = heading_style(line, expected_number)
    return next((lvl for st, lvl, _ in _STYLES if st == style), 0)


def _prior(a: str, b: str) -> bool | None:
    """Whether style ``a`` is certainly above style ``b`` (None: no fixed order)."""
    if a in _TOP or b in _TOP:
        ra = _TOP.index(a) if a in _TOP else len(_TOP)
        rb = _TOP.index(b) if b in _TOP else len(_TOP)
        return ra < rb if ra != rb else None
    if a in _FAMILY and b in _FAMILY:
        return _FAMILY.index(a) < _FAMILY.index(b)
    return None


class _Nesting:
    """The open heading path of one document part, and the nesting its
    headings have shown so far (``above``: pairs (outer style, inner style))."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, str]] = []  # (style, label)
        self.above: set[tuple[str, str]] = set()

    def clear(self) -> None:
        self.stack.clear()
        self.above.clear()

    def push(self, style: str, label: str) -> None:
        while self.stack:
            top = self.stack[-1][0]
            if top == style:
                self.stack.pop()
                break
            if (style, top) in self.above:
                self.stack.pop()
                continue
            if (top, style) in self.above:
                break
            if _prior(style, top):
                self.stack.pop()
                continue
            break
        for outer, _ in self.stack:
            self.above.add((outer, style))
        self.stack.append((style, label))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lbl for _, lbl in self.stack)


def _marker(line: str) -> str:
    for _, pat in _HEADINGS:
        m = pat.match(line)
        if m:
            return m.group(0)
    m = _BARE_NUMBER.match(line)
    return m.group(1) + "." if m else ""


def heading_label(line: str) -> str:
    """Section label: a heading line without a sentence whole (三、加强协作配套强链),
    else its lead sentence when short (1、提升品质), else the marker alone (12.)."""
    if len(line) <= 40 and not re.search(r"[。；;]", line):
        return line
    if len(line) <= 60 and line.endswith(("：", ":")) and not re.search(r"[。；;]", line):
        return line  # a lead-in to the items below it: their topic
    marker = _marker(line)
    lead = line[len(marker):].split("。", 1)[0]
    if 0 < len(lead) <= 16 and not re.search(r"[；;]", lead):
        return marker + lead
    return marker.replace("．", ".")


def focus_question(turn: str) -> str:
    """The question sentence of a host's turn, without the address
    (「蔡局长，请您介绍下…？」 -> 「请您介绍下…？」)."""
    sents = [x for x in re.findall(r"[^。？?！!]+[。？?！!]?", turn) if x.strip()]
    asking = [x for x in sents if _ASKS.search(x)]
    q = (asking[-1] if asking else turn).strip()
    if len(asking) >= 2 and asking[-1].rstrip("?？") in ("成效如何", "效果如何"):
        q = asking[-2] + asking[-1]
    q = re.sub(r"^[^，,]{1,6}(?:局长|主任|书记|市长|区长|县长|先生|女士)[，,]\s*", "", q)
    q = re.sub(r"^(?:那么|好的|那)[，,]?\s*", "", q)
    return q.strip()


def _key_part(label: str) -> str:
    marker = _marker(label) or label[:12]
    return re.sub(r"[（）()、.．\s]", "", marker) or "x"


def _is_body(line: str) -> bool:
    return len(line) >= 8 and (("。" in line) or line.endswith((":", "：")))


def _title_block(lines: list[str], i: int) -> int:
    """Number of lines (1–3) starting at ``i`` that form a part title, else 0."""
    for n in (1, 2, 3):
        if i + n >= len(lines):
            return 0
        block = lines[i : i + n]
        if any(
            len(b) > 60
            or re.search(r"[。；;，,:：]", b)
            or heading_level(b)
            or is_date_line(b)
            or turn_role(b)
            for b in block
        ):
            return 0
        joined = "".join(dict.fromkeys(block))
        nxt = lines[i + n]
        if any(w in joined[-8:] for w in PLAN_WORDS) and (_is_body(nxt) or heading_level(nxt)):
            return n
    return 0


def _split(text: str, unit: _Unit, cfg: ChunkerConfig) -> list[tuple[int, int]]:
    """Sentence-packed (start, end) pieces of a unit."""
    sents: list[tuple[int, int]] = []
    for ls, le in unit.spans:
        pos = ls
        for m in _SENT_END.finditer(text, ls, le):
            sents.append((pos, m.end()))
            pos = m.end()
        if pos < le:
            sents.append((pos, le))
    sents = [(s + (len(text[s:e]) - len(text[s:e].lstrip())), e) for s, e in sents if text[s:e].strip()]
    glued: list[tuple[int, int]] = []
    for s, e in sents:  # a trailing （责任单位：…） note belongs to the sentence before it
        if glued and text[s] in "（(" and _NOTE_TAIL.fullmatch(text[s:e].strip()) and "\n" not in text[glued[-1][1]:s]:
            glued[-1] = (glued[-1][0], e)
        else:
            glued.append((s, e))
    sents = glued
    pieces: list[list[int]] = []
    for s, e in sents:
        if pieces and (e - pieces[-1][0]) <= cfg.max_chars:
            pieces[-1][1] = e
        else:
            pieces.append([s, e])
    merged: list[list[int]] = []
    for p in pieces:
        if merged and (p[1] - p[0] < cfg.min_chars):
            merged[-1][1] = p[1]
        elif merged and (merged[-1][1] - merged[-1][0] < cfg.min_chars):
            merged[-1][1] = p[1]
        else:
            merged.append(p)
    return [(s, e) for s, e in merged]


def _interview_units(text: str, spans: list[tuple[int, int]]) -> list[_Unit]:
    lines = [text[s:e] for s, e in spans]
    units: list[_Unit] = []
    turns_format = any(turn_role(ln) for ln in lines)
    cur: _Unit | None = None
    n_q = 0

    def close() -> None:
        nonlocal cur
        if cur and cur.spans:
            units.append(cur)
        cur = None

    for (s, e), ln in zip(spans, lines):
        if turns_format:
            t = turn_role(ln)
            if t and asks(t[0]):
                close()
                q = focus_question(ln[t[1]:].strip())
                if _ASKS.search(q) or is_question_role(t[0]):
                    n_q += 1
                    cur = _Unit([(s, e)], (f"问答{n_q}：{q[:40]}",), f"qa{n_q:02d}", "qa", q)
                else:
                    cur = _Unit([(s, e)], ("访谈",), "talk", "text")
                continue
        elif _QUESTION_LINE.match(ln):
            close()
            n_q += 1
            q = ln
            cur = _Unit([(s, e)], (f"问答{n_q}：{q[:40]}",), f"qa{n_q:02d}", "qa", q)
            continue
        if cur is None:
            cur = _Unit([], (PREAMBLE,), "pre", "preamble")
        cur.spans.append((s, e))
    close()
    return units


def _bare_heading(line: str) -> bool:
    """A heading line that is a label only (「一、总体要求」), not one with its clause's text."""
    return len(line) <= 40 and not re.search(r"[。；;]", line)


def _table_header(lines: list[str], i: int) -> list[str] | None:
    """Cells of line ``i`` when it is the header row of the table rows below it."""
    cells = split_row(lines[i])
    if i + 1 >= len(lines) or not is_table_row(lines[i + 1]) or any(KV in c for c in cells):
        return None
    below = split_row(lines[i + 1])
    return cells if any(b.startswith(c + KV) for b in below for c in cells if c) else None


def _row_label(cells: list[str]) -> str:
    """A table row's label in section paths: its first non-serial cell's value."""
    for c in cells:
        value = c.split(KV, 1)[1] if KV in c else c
        if value and not re.fullmatch(r"\d{1,3}", value):
            return value[:20]
    return cells[0][:20] if cells else ""


def _document_units(text: str, spans: list[tuple[int, int]]) -> list[_Unit]:
    """Units of a structured document (see the module docstring)."""
    lines = [text[s:e] for s, e in spans]
    units: list[_Unit] = []
    parts: list[str] = [""]
    nest = _Nesting()
    cur: _Unit | None = None
    since_note: list[_Unit] = []
    last_number = 0
    table: dict | None = None  # the open table: its path label and row count
    n_tables = 0
    i = 0

    def close() -> None:
        nonlocal cur
        if cur and cur.spans:
            # a heading line with no body is a label, not a unit
            if not (cur.kind == "heading" and len(cur.spans) == 1):
                cur.part = len(parts) - 1
                units.append(cur)
                since_note.append(cur)
        cur = None

    def key_of(labels: tuple[str, ...]) -> str:
        return "/".join(_key_part(lbl) for lbl in labels)

    def new_part(title: str, replace: bool = False) -> None:
        nonlocal last_number
        if replace:
            parts[-1] = title
        else:
            parts.append(title)
        nest.clear()
        since_note.clear()
        last_number = 0

    while i < len(lines):
        ln, (s, e) = lines[i], spans[i]
        if table is not None and not is_table_row(ln):
            table = None
        if is_table_row(ln):
            if table is None:
                # a caption: the short label line just before the table
                prev = lines[i - 1] if i else ""
                caption = prev if cur and cur.spans and cur.spans[-1] == spans[i - 1] and len(prev) <= 40 and not re.search(r"[。；;，,]", prev) else ""
                if caption and cur is not None:
                    cur.spans.pop()  # the caption is the rows' label, not a passage
                    if cur.spans and cur.heading and len(cur.spans) == 1 and _bare_heading(text[cur.spans[0][0]:cur.spans[0][1]]):
                        cur.kind = "heading"  # (a heading line with a body of its own stays a passage)
                close()
                n_tables += 1
                header = _table_header(lines, i)
                label = caption or (" | ".join(header) if header else f"表{n_tables}")
                table = {"label": label, "rows": 0}
                if header:
                    i += 1  # the header row is the label of the rows below it
                    continue
            close()
            table["rows"] += 1
            cells = split_row(ln)
            path = nest.labels + (table["label"], _row_label(cells))
            key = "/".join(x for x in (key_of(nest.labels), f"表{n_tables}", f"r{table['rows']}") if x)
            cur = _Unit([(s, e)], path, key, "table")
            close()
            i += 1
            continue
        if _PART_MARK.match(ln):
            close()
            new_part(ln.replace(" ", ""))
            i += 1
            continue
        n_title = _title_block(lines, i)
        if n_title:
            close()
            title = "".join(dict.fromkeys(lines[i : i + n_title]))
            new_part(title, replace=bool(i > 0 and _PART_MARK.match(lines[i - 1])))  # 附件 + its title: one part
            i += n_title
            continue
        if _NOTE_LINE.match(ln):
            close()
            note = ln[1:-1].strip()
            for u in since_note:
                if not u.responsible:
                    u.responsible = note
            since_note.clear()
            i += 1
            continue
        if is_date_line(ln) or (is_signature_org(ln) and i + 1 < len(lines) and is_date_line(lines[i + 1])):
            close()  # signature (落款) and date: metadata, not a passage
            i += 1
            continue
        style = heading_style(ln, last_number + 1)
        if style:
            close()
            nest.push(style, heading_label(ln))
            if len(nest.stack) == 1:
                since_note.clear()
            if style == "num":
                m = re.match(r"\d+", _marker(ln))
                last_number = int(m.group(0)) if m else last_number
            cur = _Unit([(s, e)], nest.labels, key_of(nest.labels), "clause", heading=True)
            # a heading line alone ("一、总体要求") stays a label unless body follows
            if _bare_heading(ln):
                cur.kind = "heading"
            i += 1
            continue
        if cur is None:
            cur = _Unit([], nest.labels or (PREAMBLE,), key_of(nest.labels) or "pre", "clause" if nest.stack else "preamble")
        elif cur.kind == "heading":
            cur.kind = "clause"
        cur.spans.append((s, e))
        i += 1
    close()
    # Name parts in paths only when several parts carry numbered clauses
    # (e.g. an 实施意见 followed by its 攻坚方案).
    with_clauses = {u.part for u in units if u.kind in ("clause", "table") and u.path != (PREAMBLE,)}
    if len(with_clauses) >= 2:
        for u in units:
            if parts[u.part]:
                u.path = (parts[u.part],) + tuple(p for p in u.path if p != PREAMBLE)
                u.key = f"p{u.part}/{u.key}"
    return units


def chunk_document(doc: Document, config: ChunkerConfig | None = None) -> list[Chunk]:
    cfg = config or ChunkerConfig()
    text = doc.text
    spans = _lines(text)
    if doc.meta.doc_type == "interview" or any(turn_role(text[s:e]) for s, e in spans[:50]):
        units = _interview_units(text, spans)
    else:
        units = _document_units(text, spans)
    title = doc.meta.title
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for u in units:
        if not u.responsible:
            m = _NOTE_TAIL.search(text[u.spans[-1][0] : u.spans[-1][1]])
            if m:
                u.responsible = m.group(1).strip()
        section = " > ".join(u.path)
        for s, e in _split(text, u, cfg):
            ordinal = seen.get(u.key, 0)
            seen[u.key] = ordinal + 1
            head = [p for p in (doc.meta.region, doc.meta.issuer, f"《{title}》" if title else "") if p]
            header = " ".join(head) + ("\n" if head else "") + section
            if u.question:
                header += f"\n问：{u.question}"
            if u.responsible:
                header += f"\n（{u.responsible}）"
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{u.key}#{ordinal}",
                    doc_id=doc.doc_id,
                    section=section,
                    text=text[s:e],
                    start=s,
                    end=e,
                    header=header,
                    question=u.question,
                    responsible=u.responsible,
                    kind=u.kind if u.kind != "heading" else "clause",
                )
            )
    return chunks
