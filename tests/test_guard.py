from __future__ import annotations

import pytest

from policyqa.qa.guard import check_question


@pytest.mark.parametrize("question", ["", "   ", "啊" * 5000, "？？？ ！！", "<b></b>"])
def test_replies_to_bad_questions_need_no_emoji_font(question):
    # shown as plain text in the chat, the CLI and copy-paste: no character that only an emoji font draws
    reply = check_question(question).reply
    assert reply and not any(ord(ch) > 0xFFFF or 0x2600 <= ord(ch) <= 0x27BF for ch in reply)
