"""Cleaning: debris goes, every substantive sentence and number stays."""

import re
from collections import Counter
from pathlib import Path

import pytest

from policyqa.corpus.clean import (
    clean_text,
    is_traditional,
    normalize_query,
    strip_pinyin,
    to_simplified,
)
from document_fixtures import FIXTURES, fixture_folder
from policyqa.corpus.layout import is_page_number
from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus
from policyqa.corpus.readers import read_file

SEEDS = sorted(builtin_corpus_dir().glob("*.txt"))
# Debris, named independently of the implementation's patterns.
DEBRIS_MARKERS = ("当前位置", "> 政民互动", "扫一扫在手机打开当前页", "掃一掃", "上一篇", "下一篇",
                  "点击次数", "索引号", "发布机构", "信息名称", "文号:", "文字实录",
                  "文号\t", "发布日期")  # the last two: a site's metadata table (read into DocMeta, then dropped)
DEBRIS_LINES = {"首页"}


def _substantive_lines(raw: str) -> list[str]:
    out = []
    for line in raw.splitlines():
        s = line.strip()
        if not s or s in DEBRIS_LINES or any(m in s for m in DEBRIS_MARKERS):
            continue
        out.append(s)
    return out


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _cells_in_one_line(cells: list[str], cleaned_text: str) -> bool:
    """A table row survives when its cells stand, in order, in one cleaned line."""
    for line in cleaned_text.split("\n"):
        squashed, pos = _squash(line), 0
        for c in cells:
            pos = squashed.find(_squash(c), pos)
            if pos < 0:
                break
            pos += len(_squash(c))
        else:
            return True
    return False


def _assert_survives(name: str, raw: str) -> int:
    cleaned_text = clean_text(raw)
    cleaned = _squash(cleaned_text)
    trad = is_traditional(strip_pinyin(raw))
    n = 0
    for line in _substantive_lines(raw):
        if is_page_number(line):
            continue
        s = strip_pinyin(line)
        s = to_simplified(s) if trad else s
        s = s.lstrip("•·").strip()
        cells = [c for c in re.split(r"\t|\s{1,}", s) if c]
        if _squash(s) not in cleaned and len(cells) >= 2 and _cells_in_one_line(cells, cleaned_text):
            n += 1  # a table row: its cells survive, labelled with their column names
            continue
        for sent in re.split(r"(?<=[。！？；!?;])", s):
            sent = _squash(sent)
            if sent:
                assert sent in cleaned, f"{name}: lost sentence {sent!r}"
                n += 1
    return n


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_every_substantive_sentence_survives(path: Path):
    assert _assert_survives(path.name, path.read_text(encoding="utf-8")) > 10


@pytest.fixture(scope="module")
def fixture_docs(tmp_path_factory):
    folder = fixture_folder(tmp_path_factory.mktemp("fixtures"))
    return {f.name: f for f in folder.iterdir()}


FIXTURE_NAMES = sorted(f.name.removesuffix(".txt") if f.name.endswith(".docx.txt") else f.name for f in FIXTURES.iterdir())


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_substantive_sentence_and_cell_of_the_fixtures_survives(fixture_docs, name):
    """Converted, wrapped, spaced and tabular documents lose nothing either
    (the raw text is what the reader gives: HTML and docx as text)."""
    raw = read_file(fixture_docs[name])[0].text
    assert _assert_survives(name, raw) > 10
    want = Counter(re.findall(r"\d+(?:\.\d+)?%?", _squash("\n".join(
        ln for ln in _substantive_lines(raw) if not is_page_number(ln)))))
    got = Counter(re.findall(r"\d+(?:\.\d+)?%?", _squash(clean_text(raw))))
    assert not (want - got), f"{name}: numbers lost {want - got}"


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_all_numbers_of_substantive_lines_kept(path: Path):
    raw = path.read_text(encoding="utf-8")
    want = Counter(re.findall(r"\d+(?:\.\d+)?%?", strip_pinyin("\n".join(_substantive_lines(raw)))))
    got = Counter(re.findall(r"\d+(?:\.\d+)?%?", clean_text(raw)))
    missing = want - got
    assert not missing, f"{path.name}: numbers lost {missing}"


def test_no_debris_in_any_chunk():
    report = load_corpus()
    chunks = chunk_documents(report.documents)
    assert len(chunks) > 100
    for c in chunks:
        for marker in DEBRIS_MARKERS + ("打开当前页", "首页 >", "点击次数"):
            assert marker not in c.text, (c.chunk_id, marker)
        assert not re.search(r"(^|\n)[•·●]", c.text)  # list bullets gone (「江苏优品•畅行全球」 is content)
        assert not re.search(r"^\s", c.text)


def test_traditional_pinyin_document_becomes_simplified():
    raw = (builtin_corpus_dir() / "000_df2ff32941c852ae.txt").read_text(encoding="utf-8")
    text = clean_text(raw)
    assert text.startswith("为强化政策宣贯效果并扩大《宿迁市优化营商环境“五心”服务承诺清单(2023年版)》")
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)", text)
    assert not is_traditional(text)
    for trad in "為強貫擴營務獎勵專":
        assert trad not in text
    assert "对获批国家级专精特新“小巨人”企业及制造业单项冠军示范企业(产品)的奖励100万元" in text


def test_pinyin_only_removed_where_the_pattern_is_shown():
    assert strip_pinyin("強(qiáng)化政策宣貫效果") == "強化政策宣貫效果"
    assert strip_pinyin("擴(kuò)大的(de)知曉度") == "擴大的知曉度"
    # no tone-marked annotation anywhere: parenthesised Latin words are content
    assert strip_pinyin("采用ERP(erp)系统、新材(ab)料") == "采用ERP(erp)系统、新材(ab)料"


def test_full_width_and_spaces_normalised_punctuation_kept():
    raw = "　　对新认定的企业，奖励２００万元，补助比例２５％，ＥＲＰ系统。\r\n\r\n\r\n\t不低于 800 万元；"
    assert clean_text(raw) == "对新认定的企业，奖励200万元，补助比例25%，ERP系统。\n\n不低于800万元；"


def test_web_debris_lines_removed():
    raw = "\n".join([
        "当前位置:", "首页", "> 政民互动 > 在线访谈", "标题 文字", "  • 访谈时间:2020年09月09日",
        "正文第一句。", "发布: 时间:2023-03-31 点击次数:1609", "上一篇:某通知", "下一篇:另一通知",
        "最后一句。扫一扫在手机打开当前页",
    ])
    assert clean_text(raw) == "标题 文字\n访谈时间:2020年09月09日\n正文第一句。\n最后一句。"


def test_normalize_query_matches_documents():
    assert normalize_query("評上國家級專精特新小巨人，宿遷給多少錢？") == "评上国家级专精特新小巨人，宿迁给多少钱？"
    assert normalize_query("  补贴２５％  有没有上限  ") == "补贴25% 有没有上限"
