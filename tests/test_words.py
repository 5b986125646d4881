"""corpus.words: where jieba's main dictionary begins words, read from a small cache file
(the same cuts as the whole dictionary in memory), and a fallback when no cache can be written."""

from __future__ import annotations

import pytest

from policyqa.corpus import words

TEXTS = ["国家级示范县有什么奖励", "人力资源社会保障部免费开放了哪些培训平台", "延长春节假期算节假日还是休息日",
         "请问宿迁评上小巨人奖多少", "河南范县的企业", "收治多少名患者"]


def _starts(tk, text: str) -> set[int]:
    out, at = set(), 0
    for w in tk.cut(text, HMM=False):
        out.add(at)
        at += len(w)
    return out


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path))
    words._store.cache_clear()
    yield tmp_path
    words._store.cache_clear()


def test_word_starts_are_those_of_the_whole_dictionary(fresh_cache):
    full = words.main_tokenizer()
    for text in TEXTS:
        expected = _starts(full, text)
        for pos in range(len(text)):
            assert words.word_starts_at(text, pos) == (pos in expected), (text, pos)
    assert list((fresh_cache / "jieba-words").glob("*.sqlite3"))  # read from the cache file


def test_a_name_inside_a_word_does_not_begin_one(fresh_cache):
    assert not words.word_starts_at("国家级示范县", 4)  # 示范县
    assert not words.word_starts_at("人力资源", 2)  # 资源
    assert words.word_starts_at("请问宿迁", 2)


def test_without_a_writable_cache_the_whole_dictionary_is_used(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("POLICYQA_CACHE", str(blocker))
    words._store.cache_clear()
    try:
        assert words._store() is None
        assert not words.word_starts_at("国家级示范县", 4)
        assert words.word_starts_at("河南范县", 2)
    finally:
        words._store.cache_clear()


def test_a_damaged_cache_file_is_built_again(fresh_cache):
    words.word_starts_at("国家级示范县", 4)  # builds the cache file
    words._store.cache_clear()
    (path,) = (fresh_cache / "jieba-words").glob("*.sqlite3")
    path.write_bytes(b"not a database" * 100)
    assert not words.word_starts_at("国家级示范县", 4)
    assert words._store() is not None  # rebuilt, not the whole dictionary in memory
