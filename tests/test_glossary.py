"""English policy terms -> the Chinese words the documents use (qa/data/glossary.json)."""

from policyqa.qa.glossary import chinese_terms, load_glossary, with_chinese_terms


def test_phrases_plurals_and_hyphens_are_found_longest_first():
    words = chinese_terms("Are there subsidies for industrial robots and high-tech enterprises?")
    assert "工业机器人" in words and "补贴" in words and "高新技术企业" in words
    assert "机器人" not in words  # the longer phrase "industrial robot" took the words


def test_words_inside_other_words_do_not_match():
    assert chinese_terms("What is the capital of the province?") == []  # "cap" inside "capital"
    assert chinese_terms("firmware") == []


def test_a_question_without_glossary_words_is_unchanged():
    q = "Who wrote this?"
    assert with_chinese_terms(q) == q


def test_every_entry_is_lower_case_english_with_chinese_words():
    _, terms = load_glossary()
    assert len(terms) >= 100
    for k, v in terms.items():
        assert k == k.lower() and k.isascii() and v
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w) or w.isascii() for w in v)
