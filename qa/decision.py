"""Typed answer decisions and the user-facing texts rendered from them.

:class:`Answerer` returns a :class:`Decision` (a :class:`Reason` plus what
supports it); every lead, refusal and region text is rendered here from
those fields, so texts never contradict what is shown (no 「下面第[1]条」
without a [1]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from policyqa.qa.compose import Selected


class Reason(str, Enum):
    ANSWERED = "answered"
    PARTIAL = "partial"  # topic found, the figure asked is not stated: closest clause + "not stated"
    REFUSED_OUT_OF_CORPUS = "refused_out_of_corpus"
    REFUSED_REGION = "refused_region"  # the asked region's documents do not cover it (others' rules may follow, labelled)
    INVALID = "invalid"  # empty, huge, unreadable input


class FollowupScope(str, Enum):
    """Where a follow-up was answered, relative to the previous turn's documents."""

    WITHIN = "within_previous"  # answered within the previous turn's documents
    NOT_IN_PREVIOUS = "not_in_previous"  # the changed object is not in them: the rest of the knowledge base was searched
    NOT_STATED = "not_stated"  # they are about the topic, but no clause of them names the changed object: the closest is shown


KIND_WORDS = {"amount": "具体金额", "rate": "具体比例", "count": "具体数量", "date": "具体时间", "measure": "具体数值", "unit": "负责单位"}


@dataclass(frozen=True)
class RegionPart:
    """One region of a comparison: its statement(s), or nothing when its documents give no figure."""

    region: str
    selected: tuple[Selected, ...] = ()
    missing: tuple[str, ...] = ()  # figure kinds asked that its documents do not state
    has_docs: bool = True


@dataclass(frozen=True)
class Decision:
    reason: Reason
    selected: tuple[Selected, ...] = ()
    regions: tuple[str, ...] = ()  # asked regions (labels) the decision is about
    region_has_docs: bool = True
    missing: tuple[str, ...] = ()  # figure kinds asked but not stated (partial)
    shape: str = "single"  # single | list | comparison | unit
    parts: tuple[RegionPart, ...] = ()  # comparison: one per region
    p_answerable: float | None = None
    nearest: tuple[str, ...] = ()  # topics shown with a refusal
    message: str = ""  # invalid input: the reply
    followup: FollowupScope | None = None  # a follow-up: where it was answered
    followup_object: str = ""  # what the follow-up changed (人才, 区级 …)
    followup_docs: tuple[str, ...] = ()  # titles of the previous turn's documents
    # where the statements after the region's own come from: documents that state no place
    # (no region tag; they may apply) and/or other regions' documents (tagged; they do not apply)
    unplaced: bool = False
    other_regions: bool = True
    # answered from documents that state no place but whose quoted passage, heading or title names
    # the asked region (「广东税务第一时间…」): said so before the statements
    named_in_text: bool = False
    # a region's refusal that lists the region's own closest clause first (before other regions' rules)
    own_closest: bool = False
    # a question naming no place answered with the rules of several places (shape comparison)
    place_unasked: bool = False
    # a region's refusal: the question's topic words that no document of the knowledge base writes
    unknown: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def followup_note(self) -> str:
        return followup_text(self)

    @property
    def refused(self) -> bool:
        return self.reason in (Reason.REFUSED_OUT_OF_CORPUS, Reason.INVALID) or (
            self.reason == Reason.REFUSED_REGION and not self.selected)


def followup_text(d: Decision) -> str:
    """The lead of a follow-up whose changed object the previous turn's documents do not
    mention, or mention without a rule for it."""
    names = "、".join(f"《{t}》" for t in d.followup_docs) or "上一个问题所依据的文件"
    if d.followup == FollowupScope.NOT_STATED and not d.refused:
        return f"上一个问题所依据的{names}没有写明「{d.followup_object}」的规定；以下是其中最接近的内容。"
    if d.followup != FollowupScope.NOT_IN_PREVIOUS:
        return ""
    tail = "以下是知识库其他文件中的相关内容。" if not d.refused else ""
    return f"上一个问题所依据的{names}没有提到「{d.followup_object}」。{tail}"


def missing_text(kinds) -> str:
    return "、".join(KIND_WORDS.get(k, k) for k in kinds) or "具体规定"


def lead_text(d: Decision) -> str:
    """The sentence shown before the statements (empty for a plain answer)."""
    names = "、".join(d.regions)
    lines = []
    if d.followup_note:
        lines.append(d.followup_note)
    if d.reason in (Reason.ANSWERED, Reason.PARTIAL) and d.regions and not d.region_has_docs and d.shape != "comparison":
        lines.append(region_note(d) or "")
    if d.reason in (Reason.ANSWERED, Reason.PARTIAL) and d.named_in_text:
        lines.append(f"以下内容出自没有写明适用地区的文件，其原文提到{names}。")
    if d.place_unasked and d.reason == Reason.ANSWERED:
        lines.append("问题没有说明企业所在地区；以下是知识库中几个地区各自的规定，各地不同、互不通用，请按企业所在地的文件适用：")
    if d.reason == Reason.PARTIAL:
        lines.append(f"文件中没有写明这项的{missing_text(d.missing)}；以下是最接近的规定：")
    elif d.reason == Reason.REFUSED_REGION and d.selected:
        lines.append(region_note(d) or "")
    return "\n".join(lines)


def region_note(d: Decision) -> str | None:
    """The ``Answer.region_note`` (kept for the API): set when the asked region is not covered
    (answered from national documents alone, which apply everywhere: it has none of its own)."""
    names = "、".join(d.regions)
    if d.reason in (Reason.ANSWERED, Reason.PARTIAL) and d.regions and not d.region_has_docs and d.shape != "comparison":
        return f"知识库中没有{names}的地方政策文件；以下是国家层面适用于各地的文件的规定。"
    if d.reason != Reason.REFUSED_REGION:
        return None
    if not d.region_has_docs:
        return f"知识库中没有{names}的政策文件，{_others_text(d, names)}" if d.selected else f"知识库中没有{names}的政策文件。"
    if not d.selected:
        return f"{names}的文件中没有找到这项具体规定。"
    if d.unknown:  # nothing anywhere names it: the place's nearest clause only
        words = "、".join(f"「{w}」" for w in d.unknown if not any(w != v and w in v for v in d.unknown))  # 公积金, not 公积 too
        return f"知识库的文件都没有提到{words}，{names}的文件中没有找到针对它的规定；下面是其文件中最接近的内容，是否适用请核对。"
    if d.missing:  # the region's own closest clause is listed first
        return (f"{names}的文件中没有找到这项具体规定（最前面一条是其文件中最接近的内容，没有写明{missing_text(d.missing)}）。"
                + _others_text(d, names))
    if d.own_closest:  # its closest clause states a figure, but of a rule its words do not all match
        return f"{names}的文件中没有找到与问题完全对应的规定（最前面一条是其文件中最接近的内容）。" + _others_text(d, names)
    return f"{names}的文件中没有找到这项具体规定。" + _others_text(d, names)


def _others_text(d: Decision, names: str) -> str:
    """What the statements after a region's own (if any) are: other regions' rules, which do not
    apply there, or rules of documents that state no place, which may (「是否适用请核实」)."""
    if not d.unplaced:
        return f"以下其他地区文件的规定不适用于{names}，仅供参考。"
    if not d.other_regions:
        return f"以下内容出自没有写明适用地区的文件，是否适用于{names}请核实。"
    return (f"以下未标地区的内容出自没有写明适用地区的文件，是否适用于{names}请核实；"
            f"标有地区的是其他地区文件的规定，不适用于{names}，仅供参考。")


def refusal_text(d: Decision, question: str) -> str:
    if d.reason == Reason.INVALID:
        return d.message
    names = "、".join(d.regions)
    if d.reason == Reason.REFUSED_REGION:
        head = (f"知识库中没有{names}的政策文件，其他地区的文件中也没有找到能回答这个问题的规定。" if not d.region_has_docs
                else f"{names}的文件中没有找到这项具体规定，其他地区的文件中也没有找到能回答这个问题的规定。")
    else:
        head = f"知识库中没有找到能回答「{question}」的政策规定，为避免误导，不作推测。"
    if d.followup_note:
        head = d.followup_note + "\n" + head
    text = head
    if d.nearest:
        text += "\n知识库中最接近的内容是：\n" + "\n".join(f"- {t}" for t in d.nearest)
    return text + "\n建议咨询当地工信、财政等主管部门。"


def comparison_missing_text(region: str, kinds, has_docs: bool, closest: bool = False) -> str:
    """The line of a comparison for a region whose documents state no figure of the kind
    asked (``closest``: its closest clause is quoted next)."""
    if not has_docs:
        return f"知识库中没有{region}的政策文件。"
    if closest:
        return f"{region}的文件中没有写明这项的{missing_text(kinds)}，最接近的规定是："
    return f"{region}的文件中没有写明这项的{missing_text(kinds)}。"
