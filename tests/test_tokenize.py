"""JiebaTokenizer: user dictionary, stopwords, normalisation of queries and documents."""

import os

import pytest

from fakes import jieba_tokenizer
from policyqa.index.tokenize import DEFAULT_STOPWORDS, DEFAULT_USERDICT, JiebaTokenizer, load_stopwords


@pytest.fixture(scope="module")
def tk():
    return jieba_tokenizer()


@pytest.mark.parametrize(
    "word",
    ["专精特新", "小巨人", "单项冠军", "智改数转", "两化融合", "规上工业企业", "星级上云", "首台套",
     "首批次", "首版次", "亩均效益", "机器换人", "示范智能车间", "工业互联网", "小升规", "揭榜挂帅",
     "链长制", "专精特新贷", "工信局", "高新技术企业"],
)
def test_user_dictionary_words_stay_whole(tk, word):
    assert word in tk.tokenize(f"关于{word}的政策")


def test_search_mode_emits_whole_words_and_their_parts(tk):
    toks = tk.tokenize("专精特新小巨人企业")
    for t in ("专精特新小巨人", "专精特新", "小巨人", "专精", "企业"):
        assert t in toks
    toks = tk.tokenize("示范智能车间")
    assert {"示范智能车间", "智能车间", "智能", "车间"} <= set(toks)


def test_stopwords_and_punctuation_dropped(tk):
    toks = tk.tokenize("请问，我们企业的技改补贴是多少？吗 呢！")
    assert toks == ["企业", "技改", "补贴"]


def test_numbers_and_latin_kept_lowercased(tk):
    assert tk.tokenize("ERP 系统 上云 2023 年") == ["erp", "系统", "上云", "2023", "年"]


def test_traditional_and_full_width_match_simplified(tk):
    assert tk.tokenize("專精特新「小巨人」企業獎勵") == tk.tokenize("专精特新「小巨人」企业奖励")
    assert tk.tokenize("請問專精特新企業有什麼獎勵") == ["专精", "特新", "企业", "专精特新", "专精特新企业", "奖励"]
    assert tk.tokenize("補貼２５％，ＥＲＰ") == tk.tokenize("补贴25%,ERP")
    assert "25%" in tk.tokenize("补贴25%")


def test_empty_and_blank_text(tk):
    assert tk.tokenize("") == []
    assert tk.tokenize(" \n\t，。") == []
    assert tk.tokenize("什么 怎么 哪些") == []


def test_default_data_files_exist_and_parse():
    words = load_stopwords(DEFAULT_STOPWORDS)
    assert {"的", "了", "什么", "请问", "一个"} <= words
    lines = [ln.split() for ln in DEFAULT_USERDICT.read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert all(len(p) >= 2 and p[1].isdigit() for p in lines)
    assert {"专精特新", "小巨人", "智改数转", "工信局"} <= {p[0] for p in lines}


@pytest.mark.parametrize("dictionary", ["lookup", "memory"])
def test_user_words_never_reach_global_jieba(dictionary):
    import jieba

    # compared with before rather than absent: Milvus Lite's in-process analyzer adds the
    # policy words to the global jieba when a Milvus test ran earlier in the session
    before = jieba.dt.FREQ.get("智改数转")
    fresh = JiebaTokenizer(dictionary=dictionary)
    assert "智改数转" in fresh.tokenize("推进智改数转")
    assert jieba.dt.FREQ.get("智改数转") == before
    other = JiebaTokenizer(userdict=None, dictionary=dictionary)
    assert "智改数转" not in other.tokenize("推进智改数转")


def test_without_user_dictionary_and_stopwords(tmp_path):
    stop = tmp_path / "stop.txt"
    stop.write_text("# comment\n企业\n\n", encoding="utf-8")
    t = JiebaTokenizer(userdict=None, stopwords=stop)
    toks = t.tokenize("的企业")
    assert "企业" not in toks and "的" in toks
    assert t.settings()["userdict_sha256"] == ""


def test_missing_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="user dictionary not found"):
        JiebaTokenizer(userdict=tmp_path / "nope.txt")


def test_dictionary_loading_is_quiet(tmp_path):
    # Reloads jieba's main dictionary (~1 s) and writes its lookup arrays into an
    # empty cache, to check nothing reaches stderr.  In a subprocess: other tests'
    # background threads (gRPC of Milvus Lite) may write to this process's stderr.
    import subprocess
    import sys

    probe = (
        "import logging, jieba\n"
        "from policyqa.index.tokenize import JiebaTokenizer\n"
        "jieba.default_logger.setLevel(logging.DEBUG)\n"  # as noisy as jieba gets
        "JiebaTokenizer()\n"
    )
    env = dict(os.environ, POLICYQA_CACHE=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stderr == ""
    assert list((tmp_path / "jieba").iterdir())  # the arrays were written


def test_settings_fingerprint_user_dictionary(tk):
    s = tk.settings()
    assert s["kind"] == "jieba-search" and len(s["userdict_sha256"]) == 16
