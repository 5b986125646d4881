"""A question about who holds a post (「由谁兼任」) is answered by the clause that assigns
it, not by the responsible-unit note of its item.

``tests/data/roles/``: a 岚溪县 policy written for this test; its first item assigns the
office director's post (县工信局局长兼任办公室主任) and closes with a 责任单位 note.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fakes import body, folder_answerer

DATA = Path(__file__).parent / "data" / "roles"


def test_who_holds_a_post_is_the_clause_that_assigns_it(tmp_path):
    ask = folder_answerer(DATA, ["领导小组", "办公室主任", "兼任", "补助"], tmp_path / "index",
                          today=lambda: date(2026, 6, 1), threshold=0.0).answer
    b = body(ask("岚溪县数字化转型领导小组办公室主任由谁兼任？"))
    assert "县工信局局长兼任办公室主任" in b


def test_a_clause_assigning_a_post_states_who_is_responsible():
    from policyqa.qa.shapes import load_shapes

    assert load_shapes().unit_marker.search("服务专员由市、区、镇三级机关干部担任。")
    assert load_shapes().unit_marker.search("县工信局局长兼任办公室主任。")
