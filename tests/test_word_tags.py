"""jieba's part-of-speech tags, read from a cached table (index/word_tags.py)."""

from __future__ import annotations

from policyqa.index import word_tags


def test_tags_of_nouns_verbs_time_words_and_unknown_words(monkeypatch, tmp_path):
    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path))
    word_tags._table.cache_clear()
    try:
        assert word_tags.word_tag("残疾人") == "n"
        assert word_tags.word_tag("准备") == "v"
        assert word_tags.word_tag("去年") == "t"
        assert word_tags.word_tag("托育") is None  # not in jieba's main dictionary
        assert list((tmp_path / "jieba-tags").glob("*/meta.json"))  # written once, memory-mapped after
        word_tags._table.cache_clear()
        assert word_tags.word_tag("残疾人") == "n"  # read back from the cache
    finally:
        word_tags._table.cache_clear()


def test_every_tag_of_the_dictionary_is_known():
    tags = set(word_tags._read_tags(word_tags._dict_file()).values())
    assert tags <= set(word_tags.TAGS)
