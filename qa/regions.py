"""Which region a question asks about, and which documents cover it."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Collection, Mapping, Sequence

from policyqa.corpus.jurisdiction import region_matches
from policyqa.corpus.regions import Region, find_mentions, parse_region, short_name
from policyqa.corpus.types import DocMeta


_PLACE_END = re.compile(r"(?:县|区|市|旗|镇|乡|街道|新区|园区|开发区)$")


def asked_regions(question: str, docs: Mapping[str, DocMeta]) -> list[Region]:
    """Regions named in a question, most specific reading first.

    An ambiguous short name (a district name used in several cities) is read
    as the candidate the knowledge base has documents for, if any.
    """
    known = [parse_region(m.region) for m in docs.values() if m.region]
    out: list[Region] = []
    at: dict[Region, list[tuple[int, int]]] = {}  # where each region is named
    mentions = find_mentions(question, short_districts=True)
    for m in mentions:
        cands = list(m.regions)
        in_kb = [r for r in cands if any(r.contains(k) or k.contains(r) for k in known)]
        pick = (in_kb or cands)[0]
        at.setdefault(pick, []).append((m.start, m.start + len(m.text)))
        if pick not in out:
            out.append(pick)
    taken = [(m.start, m.start + len(m.text)) for m in mentions]
    for a, b, r in _english_mentions(question, docs):  # an English question's place names
        taken.append((a, b))
        if r not in out:
            out.append(r)
    # places the gazetteer does not know but the knowledge base's documents are issued for (a user-added county)
    local = kb_places(docs)
    for name in sorted(local, key=len, reverse=True):
        for pos in [i.start() for i in re.finditer(re.escape(name), question)]:
            if any(a < pos + len(name) and pos < b for a, b in taken):
                continue
            taken.append((pos, pos + len(name)))
            at.setdefault(local[name], []).append((pos, pos + len(name)))
            out = [r for r in out if not r.contains(local[name]) or r == local[name]]  # 青海省 of 青海省青禾县: the county
            if local[name] not in out:
                out.append(local[name])
    # keep only the most specific of nested mentions (江苏省盐城市亭湖区: 亭湖区), unless the two are joined
    # as places of their own (「绵阳和四川省」「四川省与绵阳」: a province and its city compared), also
    # each with its own object (「绵阳的专精特新奖励和四川省的技改资金」: the second follows a joining word)
    def joined(r: Region, o: Region) -> bool:
        spans = sorted(at.get(r, []) + at.get(o, []))
        return any(_JOIN.fullmatch(gap) is not None or _JOIN_BEFORE.search(gap) is not None
                   for (_, a_end), (b_start, _) in zip(spans, spans[1:]) if a_end < b_start
                   for gap in [question[a_end:b_start]])

    kept = [r for r in out if not any(o != r and r.contains(o) and not joined(r, o) for o in out)]
    # in the order the question names them (a comparison's rows follow it): gazetteer names were
    # collected first, the knowledge base's own places after them
    first = {r: min((a for a, _ in at.get(r, [])), default=len(question)) for r in kept}
    return sorted(kept, key=lambda r: first[r])


def kb_places(docs: Mapping[str, DocMeta]) -> dict[str, Region]:
    """Name (full and short: 青禾县, 青禾) -> region, for the places the knowledge
    base's documents are issued for that the gazetteer does not know (the part of
    a document's jurisdiction after the longest gazetteer prefix)."""
    labels = tuple(sorted({(getattr(m, "jurisdiction", "") or m.region or "") for m in docs.values()}))
    return dict(_kb_places(labels))


@lru_cache(maxsize=64)
def _kb_places(labels: tuple[str, ...]) -> tuple[tuple[str, Region], ...]:
    out: dict[str, Region] = {}
    for label in labels:
        if not label:
            continue
        r = parse_region(label)
        tail = label[len(r.full):] if label.startswith(r.full) else ""
        if len(tail) < 2 or not _PLACE_END.search(tail) or r.district:  # a province may be unknown
            continue
        place = Region(r.province, r.city, tail)
        for name in {tail, short_name(tail)}:
            if len(name) >= 2 and not find_mentions(name, short_districts=True):
                out[name] = place
    return tuple(out.items())


def english_places(docs: Mapping[str, DocMeta]) -> dict[str, tuple[Region, ...]]:
    """Pinyin spelling (lower case, no spaces: suqian, pingyin, luohe) -> the knowledge
    base's regions of that name (provinces, cities, districts of its documents, and
    places the gazetteer does not know), so an English question naming one is read
    like a Chinese one.  Every reading of a name is spelled (漯 is luo or ta).
    Empty when ``pypinyin`` is not installed."""
    labels = tuple(sorted({(getattr(m, "jurisdiction", "") or m.region or "") for m in docs.values()}))
    return dict(_english_places(labels))


@lru_cache(maxsize=16)
def _english_places(labels: tuple[str, ...]) -> tuple[tuple[str, tuple[Region, ...]], ...]:
    try:
        from pypinyin import Style, pinyin
    except ImportError:  # optional: English place names are then not recognised
        return ()
    from itertools import islice, product

    out: dict[str, list[Region]] = {}
    local = dict(_kb_places(labels))
    for label in labels:
        r = parse_region(label)
        levels = [Region(r.province)] if r.province else []
        if r.city and r.city != r.province:
            levels.append(Region(r.province, r.city))
        if r.district:
            levels.append(r)
        levels += [p for n, p in local.items() if n == label[len(r.full):]]
        for reg in levels:
            short = short_name(reg.name)
            phrase = ["".join(x[0] for x in pinyin(short, style=Style.NORMAL))]
            readings = [pinyin(ch, style=Style.NORMAL, heteronym=True)[0] for ch in short]  # per character: 漯 luo/ta
            for combo in [phrase, *islice(product(*readings), 16)]:
                key = "".join(combo).lower()
                if len(key) >= 4 and key.isascii() and key.isalpha() and reg not in out.setdefault(key, []):
                    out[key].append(reg)
    return tuple((k, tuple(v)) for k, v in out.items())


def _english_mentions(question: str, docs: Mapping[str, DocMeta]) -> list[tuple[int, int, Region]]:
    """(start, end, region) of English place names of the knowledge base in ``question``
    (「Suqian」「Pingyin County」「Xuzhou's」); a name several places share is read as the
    one whose province the question also names, else as the first."""
    places = english_places(docs) if re.search(r"[A-Za-z]{4}", question) else {}
    if not places:
        return []
    words = [(m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"[A-Za-z]+", question)]
    named = {w for _, _, w in words}
    out = []
    for i, (a, b, w) in enumerate(words):
        for j in [k for k in (i + 1, i) if k < len(words)]:  # 「Su Qian」 or 「Suqian」
            key = "".join(x[2] for x in words[i : j + 1])
            if key in places:
                regs = places[key]
                pick = next((r for r in regs if any(k in named for k, v in places.items() if Region(r.province) in v)), regs[0])
                out.append((a, words[j][1], pick))
                break
    return out


def _known(region: Region) -> bool:
    return parse_region(region.full) == region


def docs_for(region: Region, docs: Mapping[str, DocMeta]) -> list[str]:
    """Documents that apply to ``region``: national ones, those of the region
    itself, of a region containing it (a city policy applies to its districts)
    or, for a province or city question, of places inside it
    (:func:`policyqa.corpus.jurisdiction.region_matches`).  A place the gazetteer
    does not know is matched by its name (``region.full``)."""
    key = region if _known(region) else region.full
    return [doc_id for doc_id, meta in docs.items() if region_matches(meta, key)]


def without_inner(region: Region, asked: Sequence[Region], doc_ids: Sequence[str], docs: Mapping[str, DocMeta]) -> list[str]:
    """``doc_ids`` without the documents of another asked region inside ``region``: in a
    comparison of a province with its own city (「绵阳和四川省」) the city's documents are
    the city's row, not the province's too."""
    inner = [o for o in asked if o != region and region.contains(o)]
    if not inner:
        return list(doc_ids)

    def of_inner(doc_id: str) -> bool:
        m = docs.get(doc_id)
        own = parse_region(m.region) if m is not None and m.region else None
        return own is not None and own != region and any(o.contains(own) for o in inner)

    return [d for d in doc_ids if not of_inner(d)]


def region_label(region: Region) -> str:
    return region.full or region.name


_JOIN = re.compile(r"\s*(?:和|与|跟|及|同|、|，|,|还是|或)\s*")
_JOIN_BEFORE = re.compile(r"(?:和|与|跟|及|、|还是)\s*$")  # a place right after these is one more place asked


_QUALIFIER = re.compile(r"\s*[（(][^（()）]{1,12}[)）]")


@lru_cache(maxsize=4)
def _version_patterns() -> tuple[re.Pattern, re.Pattern]:
    """(a place's version qualifier: 2021年那版, 2024年的政策 — a year and a version word
    (cues.json ``version_words``); what may stand between two places asked together: a
    qualifier of the first (its brackets, or its year and version: 谷城2021年那版) and the
    word joining them)."""
    from policyqa.qa.cues import load_cues

    words = load_cues().version_word.pattern
    version = re.compile(rf"\s*\d{{4}}\s*年?\s*(?:的)?\s*(?:{words})")
    joined = re.compile(rf"(?:{_QUALIFIER.pattern}|\s*\d{{4}}\s*年?(?:的)?(?:{words})?)?\s*(?:和|与|跟|及|、|还是|或)\s*")
    return version, joined


def places_joined(gap: str) -> bool:
    """``gap``, the text between two place names, joins them (「和」, 「（2024版）和」, 「2021年那版和」)."""
    return bool(_version_patterns()[1].fullmatch(gap))


def place_spans(text: str, docs: Mapping[str, DocMeta] | None = None) -> list[tuple[int, int]]:
    """(start, end) of the place names in ``text``, in order: the gazetteer's, English names and
    the knowledge base's own places (a county only its documents name)."""
    return [(a, b) for a, b, _ in _place_spans(text, docs)]


def names_joined_places(question: str, docs: Mapping[str, DocMeta] | None = None) -> bool:
    """Two place names of ``question`` in a row are joined (「谷城和平阴」), counting the knowledge
    base's own places (「霁川和平阴」: a county only its documents name) and English names."""
    spans = _place_spans(question, docs)
    return any(places_joined(question[a_end:b_start]) for (_, a_end, _), (b_start, _, _) in zip(spans, spans[1:]))


def _place_spans(question: str, docs: Mapping[str, DocMeta] | None) -> list[tuple[int, int, tuple[Region, ...]]]:
    """(start, end, readings) of the place names in ``question``, in order, not overlapping:
    gazetteer names, English names and the knowledge base's own places (:func:`kb_places`);
    a qualifier in brackets right after a place (谷城（2024版）, 亭湖区(盐城)) goes with it, and
    so does the year of its version (谷城2021年那版, 桐溪2024年的政策): it chooses a document,
    not what is asked."""
    spans = [(m.start, m.start + len(m.text), tuple(m.regions)) for m in find_mentions(question, short_districts=True)]
    spans += [(a, b, (r,)) for a, b, r in _english_mentions(question, docs or {})]
    local = kb_places(docs or {})
    for name in sorted(local, key=len, reverse=True):
        for m in re.finditer(re.escape(name), question):
            if not any(a < m.end() and m.start() < b for a, b, _ in spans):
                spans.append((m.start(), m.end(), (local[name],)))
    version = _version_patterns()[0]
    spans = [(a, m.end() if (m := _QUALIFIER.match(question, b) or version.match(question, b)) else b, rs) for a, b, rs in spans]
    out: list[tuple[int, int, tuple[Region, ...]]] = []
    for a, b, rs in sorted(spans, key=lambda x: (x[0], x[1])):
        if not out or a >= out[-1][1]:
            out.append((a, b, rs))
    return out


def place_names(question: str, docs: Mapping[str, DocMeta] | None = None) -> list[str]:
    """The place names of ``question`` as written (亭湖, 四川省, Gucheng), in order, without the
    qualifiers :func:`_place_spans` adds to them (谷城2021年那版 -> 谷城)."""
    names = []
    for a, b, _ in _place_spans(question, docs):
        text = question[a:b]
        known = [m.text for m in find_mentions(text, short_districts=True) if m.start == 0]
        local = [n for n in kb_places(docs or {}) if text.startswith(n)]
        names.append(max(known + local, key=len, default=text))
    return names


def strip_regions(question: str, docs: Mapping[str, DocMeta] | None = None, keep: Collection[str] = ()) -> str:
    """The question without its place names (亭湖区评上小巨人奖多少 -> 评上小巨人奖多少),
    including the knowledge base's own places (:func:`kb_places`) when ``docs`` is given;
    the names in ``keep`` stay (places abroad, which the question names as what it is about:
    「樟树…去香港上市」 asks about 境外上市)."""
    out, pos = [], 0
    for a, b, _ in _place_spans(question, docs):
        if question[a:b] in keep:
            continue
        gap = question[pos:a]
        if pos and _JOIN.fullmatch(gap):
            gap = ""  # the word joining two removed places (宿迁和亭湖 -> "")
        out.append(gap)
        pos = b
    out.append(question[pos:])
    return "".join(out).strip(" ，,")


_OWN_OBJECT = re.compile(r"的\s*([^，,。；;：:？?！!、\s]{2,}?)\s*(?:和|与|跟|及|以及|、|还是)\s*")  # fullmatch: 的 + object + joining word
_OBJECT_END = re.compile(r"[，,。；;：:？?！!\s]")


def own_objects(question: str, regions: Sequence[Region], docs: Mapping[str, DocMeta] | None = None,
                stop: re.Pattern | None = None) -> dict[Region, str]:
    """Each asked place's own question when the places each come with their own object
    (「宿迁的技改补助和四川省的智能化改造补助，比例各是多少」): for every region of
    ``regions``, the question with the places and the other places' objects left out
    (「技改补助，比例各是多少」).  A place's object is what follows it after 的 up to the
    word joining the next place; the last place's, what follows it up to punctuation or
    ``stop`` (comparing and question words: 「四川省智改数转专项资金分别怎么规定」).  Empty
    when the question does not have that shape (「宿迁和宿州的小巨人奖励」 asks one object
    of two places), or when its places are not ``regions`` one to one."""
    spans = _place_spans(question, docs)
    if len(spans) < 2 or len(spans) != len(regions):
        return {}
    objects: list[tuple[int, int]] = []  # (start, end) of each place's object
    for (_, b, _), (a2, _, _) in zip(spans, spans[1:]):
        m = _OWN_OBJECT.fullmatch(question[b:a2])
        if m is None:
            return {}
        objects.append((b + m.start(1), b + m.end(1)))
    tail_start = spans[-1][1] + (1 if question[spans[-1][1]:spans[-1][1] + 1] == "的" else 0)
    ends = [m.start() for m in (_OBJECT_END.search(question, tail_start), stop.search(question, tail_start) if stop else None) if m]
    tail_end = min(ends) if ends else len(question)
    if tail_end - tail_start < 2:
        return {}
    objects.append((tail_start, tail_end))
    owners: list[Region] = []
    for _, _, readings in spans:
        r = next((x for x in regions if x in readings), None) or next(
            (x for x in regions if any(x.contains(y) or y.contains(x) for y in readings)), None)
        if r is None or r in owners:
            return {}
        owners.append(r)
    prefix, suffix = question[: spans[0][0]], question[tail_end:]
    return {r: (prefix + question[a:b] + suffix).strip(" ，,") for r, (a, b) in zip(owners, objects)}
