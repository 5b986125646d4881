"""A gazetteer of Chinese provinces, cities and districts, and region lookup.

Data: ``data/gazetteer.tsv`` (6-digit adcode, name), derived from the cpca
package's table (MIT).  An adcode ``PPCCDD`` names its province ``PP0000`` and
its city ``PPCC00``; the four municipalities (北京, 天津, 上海, 重庆) are their
own city.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policyqa.corpus.words import word_starts_at

_DATA = Path(__file__).with_name("data") / "gazetteer.tsv"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MUNICIPALITIES = {"11", "12", "31", "50"}
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "地区", "省", "市", "区", "县", "盟", "旗")
# Short forms that are ordinary words, never taken as a place on their own.
_GENERIC_SHORT = {
    "城区", "新区", "郊区", "矿区", "开发", "高新", "经开", "和平", "新城", "城关", "中山", "长安", "白云",
    "南山", "北山", "东区", "西区", "南区", "北区", "中区", "市中", "城中", "城东", "城西", "城南", "城北",
    "平安", "永定", "新华", "人民", "和田", "吉利", "安全", "红旗", "解放", "友好", "文化", "普通", "发展",
    "清河", "鼓楼", "铁西", "铁东", "河东", "河西", "江北", "江南", "城厢", "海城", "东城", "西城",
}


@dataclass(frozen=True)
class Region:
    province: str = ""
    city: str = ""
    district: str = ""

    @property
    def full(self) -> str:
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        if self.district:
            parts.append(self.district)
        return "".join(p for p in parts if p)

    @property
    def level(self) -> str:
        return "district" if self.district else "city" if self.city else "province" if self.province else ""

    @property
    def name(self) -> str:
        """The most specific name: 亭湖区, 宿迁市, 江苏省."""
        return self.district or self.city or self.province

    def contains(self, other: "Region") -> bool:
        """True when ``other`` lies inside (or equals) this region."""
        if not self.province or self.province != other.province:
            return False
        if self.city and self.city != other.city:
            return False
        if self.district and self.district != other.district:
            return False
        return True


def short_name(name: str) -> str:
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t")
        table[code] = name
    return table


def _region_of(code: str) -> Region:
    t = _table()
    prov = t.get(code[:2] + "0000", "")
    if code[:2] in _MUNICIPALITIES:
        city = prov
        district = t.get(code, "") if code[2:] != "0000" else ""
        return Region(prov, city, district)
    if code[2:] == "0000":
        return Region(prov)
    city = t.get(code[:4] + "00", "")
    if code[4:] == "00":
        return Region(prov, t.get(code, ""))
    return Region(prov, city, t.get(code, ""))


@lru_cache(maxsize=1)
def _ethnic_groups() -> tuple[str, ...]:
    path = _DATA.with_name("ethnic_groups.txt")
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")]
    return tuple(sorted(words, key=len, reverse=True))


def autonomous_short(name: str) -> str:
    """The short name of an autonomous prefecture or county: its place name and 州/县
    (大理白族自治州 -> 大理州, 恩施土家族苗族自治州 -> 恩施州, 长阳土家族自治县 -> 长阳县);
    "" for any other name."""
    if not name.endswith(("自治州", "自治县")):
        return ""
    base, kind = name[:-3], name[-1]
    stripped = True
    while stripped:
        stripped = False
        for g in _ethnic_groups():
            if base.endswith(g) and len(base) - len(g) >= 2:
                base, stripped = base[: -len(g)], True
                break
    return base + kind if base != name[:-3] else ""


@lru_cache(maxsize=2)
def _names(allow_short_districts: bool) -> dict[str, tuple[Region, ...]]:
    """name -> regions it may denote (full names always; short forms selectively; an autonomous
    prefecture or county also by its place name and 州/县: 大理州, 长阳县)."""
    out: dict[str, list[Region]] = {}
    for code, name in _table().items():
        reg = _region_of(code)
        out.setdefault(name, []).append(reg)
        auto = autonomous_short(name)
        if auto and (reg.level != "district" or allow_short_districts):
            out.setdefault(auto, []).append(reg)
        short = short_name(name)
        if short == name or len(short) < 2 or short in _GENERIC_SHORT:
            continue
        if reg.level == "district" and not allow_short_districts:
            continue
        out.setdefault(short, []).append(reg)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


@lru_cache(maxsize=2)
def _pattern(allow_short_districts: bool) -> re.Pattern[str]:
    names = sorted(_names(allow_short_districts), key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names))


@dataclass(frozen=True)
class Mention:
    text: str
    start: int
    regions: tuple[Region, ...]  # candidates, most plausible first


def find_mentions(text: str, short_districts: bool = False) -> list[Mention]:
    """All place-name mentions in ``text``, longest match first, left to right.

    Short district names (亭湖 for 亭湖区) are only matched when
    ``short_districts`` is set (questions), because in running text too many
    of them are ordinary words.
    """
    if len(text) <= _SHORT_TEXT:  # a question, a title, an issuer: asked about several times while answering
        return list(_mentions_of_short(text, short_districts))
    return _mentions(text, short_districts)


_SHORT_TEXT = 300  # characters: texts up to this long are remembered (a question is parsed by several steps)


@lru_cache(maxsize=4096)
def _mentions_of_short(text: str, short_districts: bool) -> tuple[Mention, ...]:
    return tuple(_mentions(text, short_districts))


def _mentions(text: str, short_districts: bool) -> list[Mention]:
    names = _names(short_districts)
    out = []
    for m in _pattern(short_districts).finditer(text):
        cands = names[m.group(0)]
        if not _place_in_context(text, m.start(), m.group(0), cands):
            continue
        # right after a province or city: the readings inside it (阳泉市城区 is not 大同's 城区)
        cands = _after_parent(text, m.start(), cands) or cands
        # Prefer higher-level readings: 宿迁 the city over a district named alike.
        cands = tuple(sorted(cands, key=lambda r: {"province": 0, "city": 1, "district": 2}[r.level]))
        out.append(Mention(m.group(0), m.start(), cands))
    return out


@dataclass(frozen=True)
class _Context:
    ordinary: tuple[str, ...]  # words a name may begin with (和县: 和)
    preceding: tuple[str, ...]  # words that introduce a place (在, 到)
    word_names: frozenset[str]  # names that are ordinary words (城区, 郊区)


@lru_cache(maxsize=1)
def _place_context() -> _Context:
    data = json.loads(_DATA.with_name("place_context.json").read_text(encoding="utf-8"))
    return _Context(tuple(data["ordinary_words"]), tuple(data["preceding_words"]), frozenset(data.get("word_names", ())))


def _after_parent(text: str, start: int, cands: Sequence[Region]) -> tuple[Region, ...]:
    """The readings of a name at ``start`` whose province or city the text names right
    before it (安徽和县, 马鞍山市和县, 大同城区); () when none."""
    return tuple(r for r in cands if any(text.endswith((p, short_name(p)), 0, start) for p in {r.province, r.city} - {""}
                                          if p != r.name))


def _place_in_context(text: str, start: int, name: str, cands: Sequence[Region]) -> bool:
    """Whether a mention of ``name`` at ``start`` is the place (``data/place_context.json``):

    - a name that is an ordinary word (城区 "urban area") only right after a province or
      city it belongs to (阳泉市城区);
    - a name beginning with an ordinary word (和县, 会同县: not 「市里和县里」, 「由市和县财政承担」,
      「会同县财政局审核」) at the start or after a non-Chinese character, after a preceding
      word (在和县), or right after its province or city (安徽和县, 马鞍山市和县);
    - a two-character name (范县, 长春) where it does not begin the text or follow a
      preceding word, a joining word (宿迁和平阴) or its province or city: only where a word
      of the text begins (「国家级示范县」 is 示范县, not 范县; 「延长春节假期」 names no 长春);
    - other names always."""
    ctx = _place_context()
    if name in ctx.word_names:
        return bool(_after_parent(text, start, cands))
    if start == 0 or not _CJK.match(text[start - 1]):
        return True
    if not name.startswith(ctx.ordinary) and len(name) > 2:
        return True
    # compared in place (a document's text can be long and hold many such names): no prefix copy
    if text.endswith(ctx.preceding, 0, start) or _after_parent(text, start, cands):
        return True
    if name.startswith(ctx.ordinary):
        return False
    # after a joining word (宿迁和平阴: jieba reads 和平 + 阴) the name begins a list's next member
    return text.endswith(ctx.ordinary, 0, start) or word_starts_at(text, start)


def lookup(name: str) -> tuple[Region, ...]:
    """Regions a name may denote, e.g. lookup("宿迁") -> (江苏省宿迁市,)."""
    return _names(True).get(name, ())


@lru_cache(maxsize=4096)
def parse_region(full: str) -> Region:
    """Parse a stored region string such as 江苏省盐城市亭湖区 back into parts."""
    if not full:
        return Region()
    best = Region()
    for m in find_mentions(full, short_districts=True):
        for r in m.regions:
            if r.full == full:
                return r
            if full.startswith(r.full) and len(r.full) > len(best.full):
                best = r
    return best


def dominant_region(text: str, min_district_mentions: int = 3, min_share: float = 0.5, min_mentions: int = 2) -> Region:
    """The region a document is about: its most-mentioned city (or province),
    narrowed to a district of that city mentioned at least
    ``min_district_mentions`` times.

    Empty when nothing is mentioned, when the most-mentioned province is named
    fewer than ``min_mentions`` times (a guide that names 湖北 once, for people
    coming from there, is not 湖北's), and when it holds less than
    ``min_share`` of the place mentions (a story that names places across the
    country, 「江苏、浙江、安徽…恢复省际客运」, is about none of them).  A wrong
    place is worse than none: a document of no stated place is quoted for a
    regional question with 「是否适用请核实」, not ruled out as another
    place's rule.
    """
    city_counts: dict[Region, int] = {}
    prov_counts: dict[str, int] = {}
    district_counts: dict[Region, int] = {}
    for m in find_mentions(text):
        r = m.regions[0]
        if len(m.regions) > 1 and r.level == "district":
            continue  # ambiguous district name: no evidence for any one city
        prov_counts[r.province] = prov_counts.get(r.province, 0) + 1
        if r.city:
            key = Region(r.province, r.city)
            city_counts[key] = city_counts.get(key, 0) + 1
        if r.district:
            district_counts[r] = district_counts.get(r, 0) + 1
    total = sum(prov_counts.values())
    if not total or max(prov_counts.values()) < max(min_mentions, min_share * total):
        return Region()
    if city_counts:
        city = max(city_counts, key=lambda r: (city_counts[r] + sum(c for d, c in district_counts.items() if d.city == r.city), r.city))
        ds = [d for d in district_counts if d.city == city.city and district_counts[d] >= min_district_mentions]
        if ds:
            return max(ds, key=lambda d: district_counts[d])
        return city
    if prov_counts:
        return Region(max(prov_counts, key=lambda p: prov_counts[p]))
    return Region()
