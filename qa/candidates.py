"""Answer candidates: the units of the top passages an answer may quote.

A candidate is a verbatim span of one retrieved chunk:

- ``sentence``: a sentence, with the short cap sentence that limits it
  (「单个项目补助金额不超过500万元。」 stays with its rule);
- ``item``: a numbered item or article with its conditions and caps
  (「1、…」「第三条 …」「一是…」), one unit however many sentences it has;
- ``note``: the responsible-unit note governing the chunk (牵头单位：…);
- ``clause``: a run of clauses of a sentence split at ，；： — trimming
  candidates, made only for the units a model already ranked high
  (:func:`clause_candidates`), so a short answer can be exactly what answers.

Sentence boundaries are those of :func:`policyqa.index.sentences.split_spans`,
the splitter whose sentence vectors the index stores; ``Candidate.sents``
names the stored sentences a candidate covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

from policyqa.corpus.turns import asks, turn_role
from policyqa.index.sentences import split_spans
from policyqa.index.types import Hit
from policyqa.qa.cues import Cues, load_cues

_SPEAKER = re.compile(r"^\s*[\[【［](?:主持人|记者|嘉宾|受访者|[\u4e00-\u9fff]{1,6})[\]】］]\s*")  # any bracketed name (「[王局长]」)
_ITEM_MARK = re.compile(
    r"(?:(?<=[:：。；;\n])|^)\s*(?:(\d{1,2})[、.．](?!\d)|第([一二三四五六七八九十百\d]+)条|[（(]([一二三四五六七八九十]{1,3})[）)]|([一二三四五六七八九十])是)"
)
_CLAUSE_END = re.compile(r"[，,；;：:]")
_RUN_BOUND = re.compile(r"[，,；;：:。！？!?]")  # where a clause run may end: a clause's or a sentence's end (a unit can hold several sentences)
_CONDITION_END = re.compile(r"的\s*[，,]\s*$")  # a clause that states a condition (「…以上的，」)
_ORG_END = ("人民政府", "政府", "部门", "办事处", "单位", "局", "委", "办", "厅", "中心", "管委会", "公司", "街道", "乡镇")
_ADDRESSEE_SEP = re.compile(r"[、，,；;]")


# from the clause naming 下列 to its colon; a match starts only where a clause does (the leftmost
# match always did), so a long run without separators is scanned once, not once per character
_CASES_INTRO = re.compile(r"(?:^|(?<=[。；;：:\n，,\]】]))[^。；;：:\n，,\]】]*(?:下列|以下|如下)[^。；;：:\n]{0,30}[：:]")


def cases_intro(text: str, start: int) -> str:
    """The intro announcing the enumeration a unit at ``text[start]`` is a case of
    (「有下列情形之一的，不予享受本政策：」 for 「（二）…的；」), "" when it is none: the intro
    ends with a colon before ``start`` and no sentence ends between them."""
    found = None
    for m in _CASES_INTRO.finditer(text, 0, max(0, start)):
        found = m
    if found is None or found.end() > start or re.search(r"[。！？!?]", text[found.end():start]):
        return ""
    return found.group().strip()


def is_addressee(text: str) -> bool:
    """The addressee line of an official document (主送机关: 「各乡镇人民政府、各街道办事处，
    县政府各部门：」): bodies separated by 、， and a final colon.  It names bodies but never
    answers a question."""
    t = text.strip()
    if not t.endswith(("：", ":")) or len(t) > 120:
        return False
    parts = [p.strip() for p in _ADDRESSEE_SEP.split(t[:-1]) if p.strip()]
    return len(parts) >= 2 and all(p.endswith(_ORG_END) for p in parts)


@dataclass(frozen=True)
class Candidate:
    """A span ``chunk.text[start:end]`` of hit ``hit`` (``start == -1``: the chunk's note)."""

    hit: int  # index into the hits list
    start: int
    end: int
    text: str
    kind: str  # sentence | item | note | clause
    sents: tuple[int, ...]  # indices of the stored sentences it covers
    position: int  # order of the unit in its chunk (0 = first)
    n_units: int  # units in the chunk
    host: bool = False  # not an answer: an interviewer's turn (「[主持人]…」) or a document's addressee line
    tiers: bool = False  # a rule stated in tiers (is_tier_of): never trimmed to part of it

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.hit, self.start, self.end)


def _strip_speaker(text: str, start: int) -> tuple[str, int]:
    m = _SPEAKER.match(text)
    end = m.end() if m else (t[1] if (t := turn_role(text)) else 0)  # or a role with a colon (「答：」)
    if 0 < end < len(text):
        return text[end:], start + end
    return text, start


def _is_host(text: str) -> bool:
    """A turn of an asking role (「[主持人]…」「问：…」): the question, never its answer."""
    t = turn_role(text)
    return bool(t and asks(t[0]))


_TIER_HEAD = re.compile(r"^[^，,；;。]{0,30}?\d[^，,；;。]{0,12}的[，,]")


def is_tier_of(piece: str, before: str) -> bool:
    """``piece`` is another tier of the rule ``before`` states: ``before`` ends at ；
    within the same sentence, and ``piece`` opens with a threshold clause of its own and
    no subject (「设备投资3000万元以上的，按设备投资额的10%给予补助」 after 「对设备投资500万元
    以上的…按8%给予补助；」).  Tiers are one rule: the answer keeps them together with the
    cap that ends them."""
    return before.rstrip().endswith(("；", ";")) and bool(_TIER_HEAD.match(piece.lstrip())) and bool(re.search(r"\d", before))


_MARK_KINDS = ("arabic", "article", "paren", "shi")  # the groups of _ITEM_MARK: 1. / 第一条 / （一） / 一是


def item_marks(text: str) -> list[tuple[int, str, str]]:
    """(offset, kind, numeral) of each item marker of ``text`` (「五是」 -> (…, "shi", "五")),
    the offset where :func:`item_spans` starts the item."""
    out = []
    for m in _ITEM_MARK.finditer(text):
        k = next(i for i in range(len(_MARK_KINDS)) if m.group(i + 1))
        out.append((m.start() + len(m.group(0)) - len(m.group(0).lstrip()), _MARK_KINDS[k], m.group(k + 1)))
    return out


def item_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the numbered items of a passage (at least two in sequence), in order.
    An item runs to the next marker; the last item of an inline enumeration (the item
    before it ends at ；) runs to the end of its sentence, not of the passage."""
    marks = list(_ITEM_MARK.finditer(text))
    if len(marks) < 2:
        return []
    spans = []
    inline = False  # the item before ended at ； (「：一是…；二是…；三是…。」): one sentence holds them
    for a, b in zip(marks, marks[1:] + [None]):
        s = a.start() + (len(a.group(0)) - len(a.group(0).lstrip()))
        e = b.start() if b is not None else len(text)
        if b is None and inline:
            stop = _SENTENCE_STOP.search(text, s, e)  # the last item of an inline enumeration ends with its sentence
            e = stop.end() if stop else e
        piece = text[s:e].rstrip()
        inline = piece.endswith(("；", ";"))
        if len(piece) >= 6:
            spans.append((s, s + len(piece)))
    return spans


_SENTENCE_STOP = re.compile(r"[。！？!?]")


def chunk_candidates(hit_index: int, hit: Hit, cues: Cues | None = None, min_chars: int = 4) -> list[Candidate]:
    """The sentence, item and note candidates of one retrieved chunk, in text order."""
    ch = hit.chunk
    return [replace(x, hit=hit_index) for x in _chunk_candidates(ch.text, ch.question, ch.responsible, cues or load_cues(), min_chars)]


@lru_cache(maxsize=4096)
def _chunk_candidates(text: str, question: str, responsible: str, c: Cues, min_chars: int) -> tuple[Candidate, ...]:
    hit_index = 0
    spans = split_spans(text)
    units: list[tuple[int, int, tuple[int, ...]]] = []
    tiered: set[int] = set()  # start offsets of units stated in tiers
    for i, (s, e) in enumerate(spans):
        piece = text[s:e]
        # a cap sentence, a continuation (「同时，…」) or a sentence a conjunction joins to the one before
        # (「或企业研发经费支出占比高于10%」: the other half of the condition) stays with its rule, and so does a short sentence
        # qualifying it (「…晋升为高层级的，按差额补足。」: cues.json qualifier_words)
        is_cap = bool(c.continuation.match(piece) or c.joiner.match(piece.lstrip())) or (
            (bool(c.cap.search(piece)) or bool(c.qualifier.search(piece))) and len(piece) <= 40)
        is_tier = bool(units) and is_tier_of(piece, text[units[-1][0] : units[-1][1]])
        if units and (is_cap or is_tier) and "\n\n" not in text[units[-1][1] : s]:
            ps, _, idx = units[-1]
            units[-1] = (ps, e, idx + (i,))
            if is_tier:
                tiered.add(ps)
            continue
        units.append((s, e, (i,)))
    out: list[Candidate] = []
    n = len(units)
    for pos, (s, e, idx) in enumerate(units):
        raw = text[s:e]
        host = _is_host(raw) or (bool(question) and raw.strip() in question) or is_addressee(raw)
        piece, s2 = _strip_speaker(raw, s)
        if len(piece.strip()) < min_chars:
            continue
        out.append(Candidate(hit_index, s2, e, piece, "sentence", idx, pos, n, host, s in tiered))
    unit_spans = {(s, e) for s, e, _ in units}
    for pos, (s, e) in enumerate(item_spans(text)):
        idx = tuple(i for i, (a, b) in enumerate(spans) if a < e and b > s)
        if idx and (s, e) not in unit_spans:  # an item that is not already one sentence unit
            out.append(Candidate(hit_index, s, e, text[s:e], "item", idx, pos, n))
    if responsible:
        out.append(Candidate(hit_index, -1, -1, responsible, "note", (), n, n))
    return tuple(out)


def candidates(hits: Sequence[Hit], depth: int = 8, cues: Cues | None = None) -> list[Candidate]:
    """Candidates of the top ``depth`` hits."""
    out: list[Candidate] = []
    for i, h in enumerate(hits[:depth]):
        out.extend(chunk_candidates(i, h, cues))
    return out


def clause_candidates(unit: Candidate, hit: Hit, max_clauses: int = 3, cues: Cues | None = None) -> list[Candidate]:
    """Runs of 1..``max_clauses`` consecutive clauses of a sentence unit (split at ，；： and,
    in a unit of several sentences, at 。！？)."""
    if unit.kind not in ("sentence", "item") or unit.start < 0 or unit.tiers:
        return []  # a rule in tiers is kept whole: a part would drop a tier's threshold
    text = hit.chunk.text
    bounds = [unit.start]
    for m in _RUN_BOUND.finditer(text, unit.start, unit.end):
        if m.end() < unit.end:
            bounds.append(m.end())
    bounds.append(unit.end)
    pieces = [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]
    # a clause that explains the one before (「…“一表一卡一册”,即…报送表、联系卡和活动手册」) is one run with it,
    # and so are the clauses after it that go on listing members like it (ending as it ends:
    # 「形成5大产业集群,即…食品产业集群,…化工产业集群、电子信息产业集群…」)
    explains = (cues or load_cues()).explanation
    merged: list[tuple[int, int]] = []
    member = ""  # how the explaining clause's member ends (产业集群 -> 集群)
    for a, b in pieces:
        piece = text[a:b].strip().rstrip("，,；;：:。")
        if merged and explains.match(piece):
            merged[-1] = (merged[-1][0], b)
            member = piece[-2:]
        elif merged and member and piece.endswith(member):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
            member = ""
    pieces = merged
    if len(pieces) < 2:
        return []
    out = []
    for i in range(len(pieces)):
        for j in range(i, min(len(pieces), i + max_clauses)):
            if i == 0 and j == len(pieces) - 1:
                continue  # the whole unit
            if j < len(pieces) - 1 and _CONDITION_END.search(text[pieces[j][0] : pieces[j][1]]):
                continue  # ends on a condition (「初次违法且危害后果轻微并及时改正的，」): what follows is what it is for
            s, e = pieces[i][0], pieces[j][1]
            piece = text[s:e].strip()
            lead = text[s:e].find(piece)
            s += lead
            e = s + len(piece)
            if len(piece.rstrip("，,；;：:")) < 4:
                continue
            out.append(Candidate(unit.hit, s, e, piece, "clause", unit.sents, unit.position, unit.n_units, unit.host))
    return out
