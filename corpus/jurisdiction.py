"""Who issued a document, at which level, for which area — and THE region matcher.

Two halves:

* **Deriving** a document's issuer level and jurisdiction
  (:func:`derive_jurisdiction`), from the strongest evidence to the weakest:
  the issuer's name (``盐城市亭湖区人民政府``, ``国务院办公厅``,
  ``中共霍山县委 霍山县人民政府``, ``市工业和信息化局``), the 文号 prefix
  (``国办发``, ``苏政办发``, ``徐中小办发``), the title's place name, the
  addressee line (``各县（市、区）人民政府`` is written by a city), and last
  the places the body mentions most.  Word lists live in
  ``data/issuers.json``.

* **Matching** (:func:`applicability`, :func:`region_matches`): does a
  document's rule apply to an enterprise in region R?  A national document
  applies everywhere; a province's to all its cities and counties; a city's to
  its districts and counties; another city's never.  The index filter
  (``index/hybrid.py::doc_matches``) and the answer's region check
  (``qa/regions.py::docs_for``) both call :func:`region_matches`, so they
  cannot disagree.

A jurisdiction is stored in ``DocMeta.jurisdiction`` as a string: ``全国`` for
national documents, else the region's full name (``江苏省盐城市亭湖区``),
followed by the name of an area the gazetteer does not know, if any (a park:
``江苏省盐城市盐城经济技术开发区``; a county missing from the gazetteer:
``浙江省桐溪县``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from policyqa.corpus.regions import Region, dominant_region, find_mentions, lookup, parse_region

__all__ = [
    "NATIONAL",
    "LEVELS",
    "Applicability",
    "Jurisdiction",
    "applicability",
    "region_matches",
    "derive_jurisdiction",
    "doc_jurisdiction",
    "issuer_orgs",
    "is_org_name",
    "org_level",
    "parse_jurisdiction",
    "issuer_data",
]

NATIONAL = "全国"
LEVELS = ("national", "province", "city", "county", "park")
_DATA = Path(__file__).with_name("data") / "issuers.json"
_HAN = "\u4e00-\u9fff"


@lru_cache(maxsize=1)
def issuer_data() -> dict:
    """The word lists of ``data/issuers.json``."""
    return json.loads(_DATA.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _org_suffixes() -> tuple[str, ...]:
    return tuple(sorted(issuer_data()["org_suffixes"], key=len, reverse=True))


def org_suffixes() -> tuple[str, ...]:
    """Endings of organisation names, longest first (局, 人民政府, 领导小组办公室 …)."""
    return _org_suffixes()


def is_org_name(s: str) -> bool:
    """An organisation's name alone: Han characters (and brackets), 3–40 long,
    ending with an organisation word (``财政部``, ``中共霍山县委``)."""
    s = s.strip()
    return bool(re.fullmatch(rf"[{_HAN}（）()]{{2,40}}", s)) and s.endswith(_org_suffixes()) and len(s) >= 3


def issuer_orgs(s: str) -> list[str] | None:
    """The organisations of a joint issuer line (``工业和信息化部 财政部``), or
    None when the line is not a list of organisation names."""
    parts = [p for p in re.split(r"[\s、,，]+", s.strip()) if p]
    if not parts or len(parts) > 8 or not all(is_org_name(p) for p in parts):
        return None
    return parts


# --- jurisdiction ----------------------------------------------------------------


@dataclass(frozen=True)
class Jurisdiction:
    """Level (``national`` | ``province`` | ``city`` | ``county`` | ``park`` | "")
    and area: a gazetteer region plus, optionally, an area inside it that the
    gazetteer does not name (a park, an unknown county)."""

    level: str = ""
    region: Region = Region()
    area: str = ""

    @property
    def label(self) -> str:
        """The stored string: 全国, 江苏省盐城市亭湖区, 浙江省桐溪县 or ""."""
        if self.level == "national":
            return NATIONAL
        return self.region.full + self.area

    @property
    def known(self) -> bool:
        return self.level == "national" or bool(self.region.province or self.area)


def _level_of_region(r: Region) -> str:
    return {"province": "province", "city": "city", "district": "county"}.get(r.level, "")


@lru_cache(maxsize=4096)
def parse_jurisdiction(label: str, level: str = "") -> Jurisdiction:
    """Read a stored jurisdiction (or region) string back.

    ``level`` is the document's ``issuer_level`` when known; otherwise it is
    the parsed region's level (an unknown trailing area counts as a county,
    or a park when it is named like one)."""
    label = (label or "").strip()
    if not label:
        return Jurisdiction(level if level == "national" else "")
    if label == NATIONAL or level == "national":
        return Jurisdiction("national")
    region = parse_region(label)
    area = label[len(region.full):] if region.full and label.startswith(region.full) else ("" if region.full else label)
    if not level:
        if area:
            level = "park" if any(w in area for w in issuer_data()["park_words"]) else "county"
        else:
            level = _level_of_region(region)
    return Jurisdiction(level, region, area)


class Applicability(Enum):
    """How a document's jurisdiction relates to an enterprise's region."""

    NATIONAL = "national"  # a national rule: applies in every region
    APPLIES = "applies"  # the document's area contains the region (or is it)
    PART = "part"  # the document covers a part of the region (a city's rule, asked about its province)
    OTHER = "other"  # another area's rule: does not apply there
    UNKNOWN = "unknown"  # the document's jurisdiction (or the region asked) is not known

    @property
    def applies(self) -> bool:
        """The rule binds an enterprise anywhere in the region."""
        return self in (Applicability.NATIONAL, Applicability.APPLIES)


def doc_jurisdiction(meta) -> Jurisdiction:
    """A document's jurisdiction as :func:`applicability` reads it: ``meta.jurisdiction``,
    falling back to ``region`` and then ``province``/``city``/``district`` (indexes
    written before jurisdictions existed); ``.label`` is the stored string."""
    label = getattr(meta, "jurisdiction", "") or getattr(meta, "region", "")
    if not label:
        label = f"{getattr(meta, 'province', '')}{getattr(meta, 'city', '')}{getattr(meta, 'district', '')}"
    return parse_jurisdiction(label, getattr(meta, "issuer_level", "") or "")


def _asked(region: Region | str) -> tuple[list[Region], str]:
    """Readings of a region asked about (several for an ambiguous name such
    as 鼓楼区) and any trailing name the gazetteer does not know."""
    if isinstance(region, Region):
        return [region], ""
    s = (region or "").strip()
    if s == NATIONAL:
        return [], NATIONAL
    r = parse_region(s)
    if r.province:
        tail = s[len(r.full):] if s.startswith(r.full) else ""
        return [r], tail
    cands = list(lookup(s))
    if cands:
        return cands, ""
    lead = find_mentions(s)
    if lead and lead[0].start == 0 and len(lead[0].text) < len(s):  # 盐城经济技术开发区: a park in 盐城
        return list(lead[0].regions), s[len(lead[0].text):]
    return [], s


def _short(name: str) -> str:
    from policyqa.corpus.regions import short_name

    return short_name(name)


_RANK = {"national": 0, "applies": 1, "part": 2, "other": 3, "unknown": 4}


def applicability(meta, region: Region | str) -> Applicability:
    """How ``meta``'s document applies to an enterprise in ``region``.

    ``meta`` is a :class:`~policyqa.corpus.types.DocMeta` (its
    ``jurisdiction``, falling back to ``region`` and then to
    ``province``/``city``/``district`` for indexes written before
    jurisdictions existed).  ``region`` is a :class:`Region` or a string
    (``亭湖区``, ``江苏省盐城市亭湖区``, ``全国`` = national documents only; an
    ambiguous name counts when any of its readings does).
    """
    doc = doc_jurisdiction(meta)
    if doc.level == "national":
        return Applicability.NATIONAL
    readings, tail = _asked(region)
    if tail == NATIONAL:
        return Applicability.OTHER
    if not doc.known:
        return Applicability.UNKNOWN
    if not readings:  # a name the gazetteer does not know (桐溪县): compare names
        short = _short(tail)
        return Applicability.APPLIES if short and short in doc.area else Applicability.OTHER
    return min((_relate(doc, r, tail) for r in readings), key=lambda a: _RANK[a.value])


def _relate(doc: Jurisdiction, asked: Region, tail: str) -> Applicability:
    d = doc.region
    if doc.area:
        # an area inside d that the gazetteer does not place more precisely
        named = [n for n in (tail, asked.district) if n]  # asked as a name, or as a region holding the area
        if any(_short(n) in doc.area for n in named) and (not d.province or d.contains(asked) or asked.contains(d)):
            return Applicability.APPLIES
        if d.province and asked.contains(d) and not tail:
            return Applicability.PART
        return Applicability.OTHER
    if tail:  # asked about an area inside ``asked`` that the gazetteer does not know
        return Applicability.APPLIES if d.contains(asked) else Applicability.OTHER
    if d.contains(asked):
        return Applicability.APPLIES
    if asked.contains(d):
        return Applicability.PART
    return Applicability.OTHER


def region_matches(meta, region: Region | str) -> bool:
    """THE region matcher: True when ``meta``'s document is relevant to an
    enterprise in ``region`` — it applies there (national, or its area
    contains the region) or it covers a part of the region (a city's document
    for a question about its province).  Used by the index filter and the
    answer's region check."""
    return applicability(meta, region) in (Applicability.NATIONAL, Applicability.APPLIES, Applicability.PART)


# --- deriving --------------------------------------------------------------------


def _strip_party(org: str) -> str:
    for p in issuer_data()["party_prefixes"]:
        if org.startswith(p):
            return org[len(p):]
    return org


def _is_national_org(org: str) -> bool:
    """A national body: named without any place (国务院办公厅, 财政部, 国家市场监督管理总局);
    a body that names a place is that place's (国家税务总局江苏省税务局)."""
    d = issuer_data()
    if find_mentions(org) or _bare_level(org):
        return False
    if org.startswith(tuple(d["national_prefixes"])) or org.startswith(tuple(d["national_bodies"])):
        return True  # 国家…, 国务院…, 财政部 / 商务部办公厅 / 工业和信息化部中小企业局
    return not _place_token(org) and org.endswith(tuple(d["national_suffixes"]))


def _bare_level(org: str) -> str:
    """Level of an organisation named without its place: 市工信局 -> city."""
    for prefix, level in sorted(issuer_data()["bare_level_prefixes"].items(), key=lambda kv: -len(kv[0])):
        if org.startswith(prefix) and not org.startswith(("市场", "区域", "县域", "省级", "市级", "县级")):
            return level
    return ""


# a place written like one, known to the gazetteer or not: 1–4 characters and a level word (桐溪县)
_PLACE_TOKEN = re.compile(rf"^([{_HAN}]{{1,4}}?(?:自治县|自治州|自治旗|自治区|地区|省|市|州|盟|县|区|旗))(?=[{_HAN}])")


def _place_token(org: str) -> str:
    """A leading place name written like one (桐溪县人民政府 -> 桐溪县), known or not."""
    m = _PLACE_TOKEN.match(_strip_party(org))
    return m.group(1) if m else ""


def _park_name(org: str) -> str:
    words = sorted(issuer_data()["park_words"], key=len, reverse=True)
    core = _strip_party(org)
    for w in words:
        i = core.find(w)
        if i >= 0:
            return core[: i + len(w)]
    return ""


def _leading_regions(org: str) -> list[Region]:
    """The gazetteer regions an organisation's name starts with (or, for a
    national body's branch, names first), most specific reading first; several
    when the name is ambiguous (鼓楼区人民政府)."""
    return _leading(org)[0]


def _leading(org: str) -> tuple[list[Region], str]:
    """:func:`_leading_regions` and the rest of the name after them."""
    core = _strip_party(org)
    best: list[Region] = []
    mentions = find_mentions(core)
    pos = mentions[0].start if mentions else 0  # 国家税务总局江苏省税务局: the branch's place
    for m in mentions:
        if m.start != pos:
            break
        cands = list(m.regions)
        if best:
            inside = [r for r in cands if any(b.contains(r) for b in best)]
            if not inside:
                break
            cands = inside
        best = cands
        pos = m.start + len(m.text)
    return best, (core[pos:] if best else core)


def org_level(org: str) -> Jurisdiction:
    """Level and place of one organisation from its name alone (no context)."""
    org = org.strip()
    if not org:
        return Jurisdiction()
    if _is_national_org(org):
        return Jurisdiction("national")
    park = _park_name(org)
    regions, rest = _leading(org)
    region = regions[0] if regions else Region()
    if park and org.endswith(("管委会", "管理委员会", "管理办公室", "办公室", "局", "委员会", "工委", "党工委")):
        return Jurisdiction("park", region, park)  # 盐城经济技术开发区管委会: a park in 盐城市
    if region.province and region.level != "district":
        # a county or district the gazetteer does not know, written after its city or
        # province (九江市庐滨区人民政府 -> 江西省九江市 + 庐滨区)
        token = _place_token(rest)
        if token.endswith("市") and not rest[len(token):].startswith(("人民政府", "政府", "委")):
            token = ""  # 宿州市工业强市推进工作领导小组办公室: a slogan, not a county-level city
        if token and token[0] not in "各全本所该市县区":  # not 「九江市各县区…」
            level = _place_level(token)
            if level == "county" or (level == "city" and region.level == "province"):
                return Jurisdiction(level, region, token)
            if region.level == "city" and token.endswith("市"):
                return Jurisdiction("county", region, token)  # a county-level city
    if region.province:
        return Jurisdiction(_level_of_region(region), region)
    level = _bare_level(org)
    if level:
        return Jurisdiction(level)  # 市工信局, 自治区农业农村厅: the level, not the place
    token = _place_token(org)
    if token:
        return Jurisdiction(_place_level(token), Region(), token)
    return Jurisdiction()


def _place_level(token: str) -> str:
    """Level of a place named like one, by its suffix (县 county, 自治州 city, 地区 city)."""
    suffixes = issuer_data()["level_by_place_suffix"]
    suffix = next((s for s in sorted(suffixes, key=len, reverse=True) if token.endswith(s)), "")
    return suffixes.get(suffix, "")


def _combine(orgs: Iterable[Jurisdiction]) -> Jurisdiction:
    """Joint issuers (中共霍山县委 霍山县人民政府): the most specific common reading."""
    js = [j for j in orgs if j.level]
    if not js:
        return Jurisdiction()
    placed = [j for j in js if j.region.province or j.area]
    if placed:
        # the most specific placed one; levels of joint issuers agree in practice
        return max(placed, key=lambda j: (len(j.region.full) + len(j.area), j.level != "national"))
    if any(j.level == "national" for j in js):
        return Jurisdiction("national")
    return js[0]


def _doc_number_prefix(doc_number: str) -> str:
    m = re.match(rf"([{_HAN}]+)", doc_number or "")
    return m.group(1) if m else ""


def _doc_number_regions(doc_number: str) -> tuple[str, list[Region]]:
    """What a 文号's prefix says: ("national", []) or ("", candidate regions)."""
    prefix = _doc_number_prefix(doc_number)
    if not prefix:
        return "", []
    d = issuer_data()
    if prefix.startswith(tuple(d["national_doc_number_prefixes"])) or re.search(r"部|总局|总署", prefix[:6]):
        return "national", []
    cands: list[Region] = []
    first = prefix[0]
    if first in d["city_abbreviations"]:
        cands.extend(lookup(d["city_abbreviations"][first]))
    if first in d["province_abbreviations"]:
        cands.extend(lookup(d["province_abbreviations"][first]))
    # a city or county whose name starts with the prefix's first characters (徐中小办发 -> 徐州)
    for n in (2, 1):
        head = prefix[:n]
        for m in find_mentions(head + "市") + find_mentions(head + "县") + find_mentions(head + "区"):
            if m.start == 0:
                cands.extend(m.regions)
    return "", list(dict.fromkeys(cands))


def _addressee_level(text: str) -> str:
    """Level implied by the addressee line (各县（市、区）人民政府… is written by a city)."""
    head = "\n".join(text.split("\n")[:25])
    for line in head.split("\n"):
        s = line.strip()
        if not s.endswith((":", "：")) or len(s) > 200:
            continue
        for cue, level in issuer_data()["addressee_levels"]:
            if cue in s:
                return level
    return ""


def _title_region(title: str) -> Region:
    """The place a title names first, outside quoted titles (漯河市工业… -> 漯河市),
    narrowed by the places inside it named next (浙江温州… -> 温州市)."""
    plain = re.sub(r"《[^》]*》", "", title or "")
    found = Region()
    for m in find_mentions(plain):
        if len(m.regions) != 1:
            continue
        r = m.regions[0]
        if not found.province:
            found = r
        elif found.contains(r):
            found = r
    return found


def _named_province(text: str) -> Region:
    """The province the text names most often by a province or city name."""
    counts: dict[str, int] = {}
    for m in find_mentions(text or ""):
        r = m.regions[0]
        if len(m.regions) == 1 and r.level in ("province", "city"):
            counts[r.province] = counts.get(r.province, 0) + 1
    return Region(max(counts, key=lambda p: (counts[p], p))) if counts else Region()


def _narrow(r: Region, level: str) -> Region:
    """``r`` cut to ``level`` (a district's city for a city-level document)."""
    if level == "province":
        return Region(r.province)
    if level == "city":
        return Region(r.province, r.city)
    return r


def derive_jurisdiction(issuer: str, doc_number: str = "", title: str = "", text: str = "") -> Jurisdiction:
    """A document's issuer level and jurisdiction (see the module docstring).

    The issuer decides when it names a place or is national; a 文号 prefix
    or a title place confirms or supplies the place; the addressee line
    supplies a level; the body's most-mentioned place is the last resort.
    """
    orgs = issuer_orgs(issuer) or ([issuer] if issuer else [])
    j = _combine(org_level(o) for o in orgs)
    if j.level == "national":
        return j
    num_level, num_regions = _doc_number_regions(doc_number)
    if not orgs and num_level == "national":
        return Jurisdiction("national")
    body = dominant_region(text) if text else Region()
    title_r = _title_region(title)
    if j.region.province:
        # an ambiguous place name (鼓楼区): the reading the title, 文号 or body agree with
        cands = [r for o in orgs for r in _leading_regions(o) if r.level == j.region.level]
        if len(set(cands)) > 1:
            for hint in [title_r, *num_regions, body]:
                agree = [r for r in cands if hint.province and (r.contains(hint) or hint.contains(r))]
                if agree:
                    return Jurisdiction(j.level, agree[0], j.area)
        return j
    if j.area:
        # a place the gazetteer does not know (桐溪县): its province from the title, the 文号, or
        # the provinces and cities the body names — not from county names, which in running text
        # are too often ordinary words (会同县 in 「县经信局会同县财政局」)
        # a 文号 whose prefix starts with the county's own first character abbreviates the county
        # (青禾县 → 青政发), not a province that shares the character (青 = 青海)
        own = _doc_number_prefix(doc_number)[:1] == j.area[:1]
        prov = ""
        for r in [title_r] + [r for r in num_regions if r.level == "province" and not own] + [_named_province(text)]:
            if r.province:
                prov = r.province
                break
        return Jurisdiction(j.level, Region(prov) if prov else Region(), j.area)
    level = j.level or _addressee_level(text)
    # the place, strongest evidence first: the title's place; a 文号 reading the body agrees
    # with (徐中小办发 + 徐州 in the body); an unambiguous 文号 reading; the body's place
    place = title_r
    if not place.province and num_regions:
        agree = [r for r in num_regions if body.province and (r.contains(body) or body.contains(r))]
        if agree:
            place = max(agree, key=lambda r: len(r.full))
        elif len(num_regions) == 1 and not body.province:
            place = num_regions[0]
    if not place.province:
        place = body
    if not place.province:
        return Jurisdiction(level)
    if level == "national":
        return Jurisdiction("national")
    if level == "park":
        return Jurisdiction("park", place, "")
    # a city-level issuer's place is a city even if a district was found; a county-level
    # issuer's place is only as precise as the evidence (a city when no county was named)
    narrowed = _narrow(place, level)
    return Jurisdiction(_level_of_region(narrowed), narrowed)
