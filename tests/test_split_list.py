"""A list question whose enumeration the chunker split over two passages gets every item:
``tests/data/split_list/`` is a work plan written for this test, 一是…六是 over two chunks,
followed by another enumeration （一）（二） under the next heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer

DATA = Path(__file__).parent / "data" / "split_list"
ITEMS = ("一是紧盯运行指标", "二是抓好项目招引", "三是培育优质企业", "四是推进数字化转型", "五是优化企业服务", "六是加强安全生产")


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["工作", "措施"], tmp_path_factory.mktemp("split") / "index", threshold=0.0)


def test_the_chunker_splits_this_enumeration(answerer):
    chunks = [c for c in answerer.retriever.chunks.values() if "五是" in c.text or "一是" in c.text]
    assert len({c.chunk_id for c in chunks}) == 2  # the premise: items over two passages


def test_a_list_split_over_passages_is_answered_whole_in_order_and_stops_where_its_numbering_does(answerer):
    a = answerer.answer("云溪县工信局今年推进工作有哪几个方面？")
    body = a.text.split("\n来源：", 1)[0]
    at = [body.find(item) for item in ITEMS]
    assert all(p >= 0 for p in at) and at == sorted(at)
    assert "加强组织领导" not in body  # the next heading's enumeration is another list
    cited = {c.chunk_id for c in a.citations}
    assert len(cited) == 2  # items quoted from each passage cite it
