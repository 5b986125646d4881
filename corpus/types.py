"""Plain frozen dataclasses passed between the corpus stage and the rest.

``Document`` holds cleaned text plus its ``DocMeta``; ``Chunk`` is the unit that
is indexed, retrieved and cited.  These are the corpus stage's API: the index,
qa and eval stages only ever see these objects (or their JSON form).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Period:
    """A policy's stated period of validity, e.g. 2023–2025 or 到2020年."""

    start: int | None  # first year, None when only an end is stated (到2020年)
    end: int | None  # last year, inclusive
    text: str  # the phrase it was read from, e.g. "2023-2025年"

    def label(self) -> str:
        if self.start and self.end and self.start != self.end:
            return f"{self.start}–{self.end}"
        if self.end and not self.start:
            return f"到{self.end}年"
        return f"{self.end or self.start}年" if (self.end or self.start) else ""


@dataclass(frozen=True)
class DocMeta:
    """Metadata extracted from a document's text; unknown fields stay empty.

    Jurisdiction (``corpus/jurisdiction.py``): ``issuer_level`` is
    "national" | "province" | "city" | "county" | "park" | ""; ``jurisdiction``
    is the area the document's rules apply to, "全国" for national documents,
    else a region string such as 江苏省盐城市亭湖区 (``region`` holds the same
    label; ``province``/``city``/``district`` its gazetteer parts).  Whether a
    document applies to a region is decided by
    :func:`policyqa.corpus.jurisdiction.region_matches`, nowhere else.

    Validity (``corpus/validity.py``): ``valid_from``/``valid_to`` are ISO dates
    or "" (from 自…起施行, 有效期N年, 暂定N年, 有效期至…, 执行期限…;
    ``validity`` is the phrase read); ``repeals`` is the sentence declaring
    earlier policies void.  ``period`` is the period a title or text names
    (2023-2025年), which is not necessarily the validity.

    Versions (``corpus/versions.py``): ``supersedes``/``superseded_by`` are doc
    ids of older/newer versions, derived from the whole document set by
    :func:`policyqa.corpus.versions.link_versions` (the index re-derives them
    whenever its documents change).
    """

    doc_id: str
    title: str = ""
    issuer: str = ""  # 落款 / 发布机构 / the interviewed body
    date: str = ""  # ISO date of the document (成文日期, else 落款, else 发布/访谈时间)
    dates: tuple[tuple[str, str], ...] = ()  # (label, ISO date) pairs, e.g. ("成文日期", "2023-03-19")
    doc_number: str = ""  # 文号, e.g. 徐中小办发〔2023〕3号
    region: str = ""  # most specific known, e.g. 江苏省盐城市亭湖区
    province: str = ""
    city: str = ""
    district: str = ""
    doc_type: str = ""  # notice | plan | work-points | interview | other
    period: Period | None = None
    source: str = ""  # path or URI it was loaded from
    issuer_level: str = ""  # national | province | city | county | park | ""
    jurisdiction: str = ""  # 全国 | region string (江苏省盐城市亭湖区) | ""
    valid_from: str = ""  # ISO date or ""
    valid_to: str = ""  # ISO date or ""
    validity: str = ""  # the validity phrase(s) read, e.g. "自发布之日起施行 / 暂定三年"
    repeals: str = ""  # the sentence repealing earlier policies, e.g. "…相关政策同时废止。"
    supersedes: tuple[str, ...] = ()  # doc ids of older versions this one replaces
    superseded_by: tuple[str, ...] = ()  # doc ids of newer versions replacing this one

    def summary(self) -> dict[str, Any]:
        """The listing shape (``policyqa docs --json``, ``GET /api/documents``).

        Keys, in order: doc_id, title, issuer, date, doc_number, region,
        doc_type, period, issuer_level, jurisdiction, valid_from, valid_to
        (strings) and supersedes, superseded_by (lists of doc ids).
        """
        return {
            "doc_id": self.doc_id, "title": self.title, "issuer": self.issuer, "date": self.date,
            "doc_number": self.doc_number, "region": self.region, "doc_type": self.doc_type,
            "period": self.period.label() if self.period else "",
            "issuer_level": self.issuer_level, "jurisdiction": self.jurisdiction,
            "valid_from": self.valid_from, "valid_to": self.valid_to,
            "supersedes": list(self.supersedes), "superseded_by": list(self.superseded_by),
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dates"] = [list(p) for p in self.dates]
        d["period"] = asdict(self.period) if self.period else None
        d["supersedes"] = list(self.supersedes)
        d["superseded_by"] = list(self.superseded_by)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DocMeta":
        """Inverse of :meth:`to_dict`; fields missing from older index files get their defaults."""
        d = dict(d)
        d["dates"] = tuple(tuple(p) for p in d.get("dates") or ())
        p = d.get("period")
        d["period"] = Period(**p) if p else None
        for k in ("supersedes", "superseded_by"):
            d[k] = tuple(d.get(k) or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Document:
    meta: DocMeta
    text: str  # cleaned text; chunk spans index into it

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id


@dataclass(frozen=True)
class Chunk:
    """A citable passage.

    ``text[start:end]`` of the cleaned document equals ``text``.  ``header`` is
    context for indexing (title + section path, plus the interview question);
    it is never shown as if it were part of the quoted passage.
    """

    chunk_id: str  # stable: doc id + section path + ordinal
    doc_id: str
    section: str  # e.g. "三、加强协作配套强链 > 12."
    text: str
    start: int
    end: int
    header: str = ""
    question: str = ""  # the interview question this answer chunk belongs to
    responsible: str = ""  # （牵头单位：…；责任单位：…） note governing this clause
    kind: str = "clause"  # clause | qa | preamble | text | table (one table row)

    def indexed_text(self) -> str:
        """What embedding and BM25 see: context header, then the passage."""
        return f"{self.header}\n{self.text}" if self.header else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Chunk":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Skipped:
    """A file that could not be loaded, with the one-line reason shown to users."""

    path: str
    reason: str


@dataclass(frozen=True)
class LoadReport:
    documents: tuple[Document, ...] = ()
    skipped: tuple[Skipped, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.skipped
