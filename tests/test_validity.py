"""Validity: start, end and repeal phrases, read from the text."""

import pytest

from policyqa.corpus.validity import extract_repeal, extract_validity, parse_count


@pytest.mark.parametrize(
    "text, doc_date, published, expected",
    [
        ("本政策自发布之日起施行，暂定三年有效期。", "2023-02-08", "", ("2023-02-08", "2026-02-07")),
        ("本政策自发布之日起施行，暂定三年有效期。", "2023-02-08", "2023-02-15", ("2023-02-15", "2026-02-14")),
        ("本办法自印发之日起施行，有效期5年。", "2021-03-01", "2021-03-09", ("2021-03-01", "2026-02-28")),
        ("本办法自2023年7月1日起施行，有效期至2027年12月31日。", "", "", ("2023-07-01", "2027-12-31")),
        ("本办法自2025年7月1日起实行，有效期三年。", "2025-06-20", "", ("2025-07-01", "2028-06-30")),
        ("本细则自2024年5月1日起执行，执行期限为2024年5月1日至2026年12月31日。", "", "", ("2024-05-01", "2026-12-31")),
        ("本措施自2022年1月1日起至2024年12月31日止。", "", "", ("2022-01-01", "2024-12-31")),
        ("本意见有效期为两年，自2020年3月1日起实施。", "", "", ("2020-03-01", "2022-02-28")),
        ("政策执行期：2023—2025年。", "", "", ("2023-01-01", "2025-12-31")),
        ("本办法有效期至2026年底。", "", "", ("", "2026-12-31")),
        ("试行期一年，自2024年6月起试行。", "", "", ("2024-06-01", "2025-05-31")),
        # no statement, or a target year, is not a validity
        ("到2027年，全国累计培育专精特新中小企业15万家以上。", "2024-03-15", "", ("", "")),
        ("截至2022年底，全市共有规上企业1200家。", "2023-01-01", "", ("", "")),
    ],
)
def test_validity_phrases(text, doc_date, published, expected):
    v = extract_validity(text, doc_date, published)
    assert (v.valid_from, v.valid_to) == expected


def test_own_clause_wins_over_a_quoted_policy():
    text = "根据《某市工业扶持办法》（有效期至2022年12月31日）制定。\n本政策自2023年6月1日起施行，有效期至2026年5月31日。"
    v = extract_validity(text)
    assert (v.valid_from, v.valid_to) == ("2023-06-01", "2026-05-31")
    assert v.text == "自2023年6月1日起施行 / 有效期至2026年5月31日"


def test_repeal_sentences():
    generic = extract_repeal("本政策自2023年6月1日起施行。此前出台的县级工业经济相关支持奖励政策同时废止，与本政策不一致的，以本政策为准。")
    assert generic.text == "此前出台的县级工业经济相关支持奖励政策同时废止，与本政策不一致的，以本政策为准。"
    assert generic.generic
    named = extract_repeal("原《桐溪县关于推动制造业高质量发展的若干政策》（桐政发〔2021〕12号）同时废止。")
    assert named.titles == ("桐溪县关于推动制造业高质量发展的若干政策",) and named.doc_numbers == ("桐政发〔2021〕12号",)
    assert not named.generic
    assert extract_repeal("此前政策与本意见不一致的，以本意见为准。").text == ""
    assert extract_repeal("如上级政策调整，本政策自行废止。").text == ""  # a condition, not a repeal


def test_counts():
    assert [parse_count(x) for x in ("3", "三", "两", "十", "十二", "二十", "x")] == [3, 3, 2, 10, 12, 20, None]
