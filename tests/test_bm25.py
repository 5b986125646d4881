"""BM25Index on a four-document corpus, with the jieba tokenizer."""

import pytest

from fakes import CharTokenizer, jieba_tokenizer
from policyqa.index.bm25 import BM25Index

IDS = ["a", "b", "c", "d"]
TEXTS = [
    "对专精特新小巨人企业给予一次性奖励50万元",
    "规上工业企业技术改造项目给予设备补助",
    "星级上云企业给予奖励，五星级上云奖励10万元",
    "首台套首批次保险补偿",
]


@pytest.fixture(scope="module")
def index():
    return BM25Index(jieba_tokenizer()).index(IDS, TEXTS)


def test_exact_ids_in_order(index):
    assert [i for i, _ in index.search("专精特新小巨人", 10)] == ["a"]
    assert [i for i, _ in index.search("首台套保险", 10)] == ["d"]
    # 奖励 occurs twice in c (shorter doc) and once in a: c first.
    assert [i for i, _ in index.search("奖励", 10)] == ["c", "a"]
    # 上云 only in c; 企业 once in a and b, and b has fewer tokens than a.
    tk = jieba_tokenizer()
    assert len(tk.tokenize(TEXTS[1])) < len(tk.tokenize(TEXTS[0]))
    assert [i for i, _ in index.search("上云企业", 10)] == ["c", "b", "a"]


def test_scores_positive_and_descending(index):
    hits = index.search("企业奖励", 10)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert {i for i, _ in hits} == {"a", "b", "c"}


def test_search_equals_batch_search(index):
    qs = ["奖励", "首台套", "专精特新"]
    assert index.batch_search(qs, 3) == [index.search(q, 3) for q in qs]


def test_k_limits_and_k_larger_than_corpus(index):
    assert len(index.search("企业", 1)) == 1
    assert [i for i, _ in index.search("企业", 100)] == ["b", "a", "c"]
    assert index.search("企业", 0) == []


def test_queries_without_known_tokens(index):
    assert index.search("量子计算", 10) == []
    assert index.search("请问什么？", 10) == []
    assert index.search("", 10) == []


def test_traditional_query_matches(index):
    assert [i for i, _ in index.search("專精特新", 10)] == ["a"]


def test_ties_broken_by_id():
    ix = BM25Index(CharTokenizer()).index(["z", "y", "x"], ["甲乙", "甲乙", "丙丁"])
    assert ix.search("甲", 10) == [("y", ix.search("甲", 10)[0][1]), ("z", ix.search("甲", 10)[0][1])]


def test_save_load_round_trip(index, tmp_path):
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", jieba_tokenizer())
    assert loaded.ids == IDS and (loaded.k1, loaded.b) == (1.5, 0.75)
    for q in ["奖励", "上云企业", "首台套", "不存在"]:
        assert loaded.search(q, 10) == index.search(q, 10)


def test_empty_index_and_document_without_tokens(tmp_path):
    empty = BM25Index(CharTokenizer()).index([], [])
    assert empty.search("甲", 5) == []
    empty.save(tmp_path / "e")
    assert BM25Index.load(tmp_path / "e", CharTokenizer()).search("甲", 5) == []
    ix = BM25Index(CharTokenizer()).index(["p", "q"], ["！？", "甲"])
    assert ix.search("甲", 5)[0][0] == "q" and len(ix.search("甲", 5)) == 1


def test_bad_input():
    ix = BM25Index(CharTokenizer())
    with pytest.raises(ValueError, match="2 chunk ids but 1 texts"):
        ix.index(["a", "b"], ["甲"])
    with pytest.raises(ValueError, match="unique"):
        ix.index(["a", "a"], ["甲", "乙"])
    with pytest.raises(TypeError, match="list of queries"):
        ix.index(["a"], ["甲"]).batch_search("甲", 1)
    with pytest.raises(FileNotFoundError):
        BM25Index.load("/nonexistent/bm25", CharTokenizer())


class CountingTokenizer:
    """jieba tokens, counting the texts it was asked to cut."""

    def __init__(self):
        self.texts = []

    def tokenize(self, text):
        self.texts.append(text)
        return jieba_tokenizer().tokenize(text)


def test_updated_tokenises_only_added_texts_and_scores_as_a_full_index(tmp_path):
    tok = CountingTokenizer()
    base = BM25Index(tok).index(IDS, TEXTS)
    tok.texts.clear()
    new = base.updated(["b"], ["e"], ["技术改造设备投资奖励"])
    assert tok.texts == ["技术改造设备投资奖励"]  # nothing else re-tokenised
    full = BM25Index(jieba_tokenizer()).index(["a", "c", "d", "e"], [TEXTS[0], TEXTS[2], TEXTS[3], "技术改造设备投资奖励"])
    for q in ("奖励", "技术改造设备", "上云企业", "首台套"):
        got, want = new.search(q, 10), full.search(q, 10)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want])
    assert [i for i, _ in base.search("技术改造", 10)] == ["b"]  # the old index is untouched
    new.save(tmp_path / "bm")
    loaded = BM25Index.load(tmp_path / "bm", jieba_tokenizer())
    assert loaded.has_tokens
    again = loaded.updated(["e"], [], [])
    assert again.search("技术改造", 10) == [] and again.ids == ["a", "c", "d"]


def test_numpy_scores_equal_bm25s_own_index():
    import bm25s
    import numpy as np

    from policyqa.index.bm25 import lucene_scores

    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 40, rng.integers(1, 30)).astype(np.int32) for _ in range(60)]
    ref = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ref.index(bm25s.tokenization.Tokenized(ids=[a.tolist() for a in docs], vocab={str(i): i for i in range(40)}), show_progress=False)
    ours = lucene_scores(docs, 40, 1.5, 0.75)
    for key in ("indices", "indptr"):
        assert np.array_equal(np.asarray(ours[key]), np.asarray(ref.scores[key]))
    np.testing.assert_allclose(ours["data"], ref.scores["data"], rtol=1e-6)
    assert ours["num_docs"] == ref.scores["num_docs"] == 60
