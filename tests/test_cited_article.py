"""A quote that refers to other articles by number (「第三条、第四条规定的…奖励实行免申即享」).

``tests/data/cited/``: a 石桥县 policy written for these tests.  Its 第三条 rewards
scale-up (「支持小微企业升规」, without the word 小升规) and 第四条 小巨人; 第六条 names both
rewards by their short names and says how they are paid, stating no amount.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.articles import referenced

DATA = Path(__file__).parent / "data" / "cited"


def test_referenced_articles_in_order_without_the_own_heading_or_another_documents():
    assert referenced("第六条　兑现方式。第三条、第四条规定的奖励实行免申即享。", 6) == [3, 4]
    assert referenced("第三条、第四条规定的奖励实行免申即享。", 6) == [3, 4]  # a quote opening with a reference
    assert referenced("第五条　按第二条执行。", None) == [2]  # the opening number followed by a space is the heading
    assert referenced("符合《江苏省专精特新中小企业认定办法》第五条规定的", None) == []
    assert referenced("享受第3条至第5条补助的，不再享受第8条补助", 9) == [3, 4, 5, 8]
    assert referenced("对首次纳入统计的企业给予奖励。", 3) == []


@pytest.fixture(scope="module")
def ask(tmp_path_factory):
    return folder_answerer(DATA, ["升规", "小升规", "小巨人", "奖励", "免申即享"], tmp_path_factory.mktemp("cited") / "index",
                           today=lambda: date(2026, 6, 1), threshold=0.0).answer


def test_a_quote_lacking_the_amount_is_preceded_by_the_article_it_cites_that_states_it(ask):
    b = body(ask("石桥县小升规奖励多少钱？"))
    assert "8万元" in b  # 第三条's amount ...
    assert "60万元" not in b  # ... not that of 第四条, cited beside it but about 小巨人
    if "免申即享" in b:
        assert b.index("8万元") < b.index("免申即享")


def test_a_quote_that_states_what_is_asked_is_not_padded_with_the_articles_it_cites(ask):
    b = body(ask("石桥县小升规奖励需要企业自己申请吗？"))
    assert "免申即享" in b and "8万元" not in b and "60万元" not in b
