from __future__ import annotations

import pytest

from policyqa.qa.guard import check_question


@pytest.mark.parametrize("question", ["", "   ", "啊" * 5000, "？？？ ！！", "<b></b>"])
def test_replies_to_bad_questions_need_no_emoji_font(question):
    # shown as plain text in the chat, the CLI and copy-paste: no character that only an emoji font draws
    reply = check_question(question).reply
    assert reply and not any(ord(ch) > 0xFFFF or 0x2600 <= ord(ch) <= 0x27BF for ch in reply)


@pytest.mark.parametrize("q,english", [
    ("How much does Suqian award a national little giant?", True),
    ("In Longquan, what reward does a national first-of-its-kind (首台套) product get?", True),  # a quoted term
    ("How much for a 小巨人 in Suqian?", True),
    ("我们上了MES和ERP系统，能补多少？", False),  # a Chinese question naming systems
    ("宿迁小巨人奖多少", False),
    ("OK", False),
])
def test_an_english_question_may_quote_a_chinese_term(q, english):
    from policyqa.qa.guard import is_english

    assert is_english(q) is english
