"""rrf and minmax with hand-computed numbers."""

import copy

import pytest

from policyqa.index.fusion import minmax, rrf


def test_rrf_hand_computed_k60():
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    # a: 1/61; b: 1/62 + 1/61; c: 1/63; d: 1/62
    expected = [("b", 1 / 62 + 1 / 61), ("a", 1 / 61), ("d", 1 / 62), ("c", 1 / 63)]
    assert [i for i, _ in fused] == [i for i, _ in expected]
    for (_, got), (_, want) in zip(fused, expected):
        assert got == pytest.approx(want)


def test_rrf_small_k_trusts_the_top():
    # a is first in one list only; c is fourth in both.
    lists = [["a", "p", "q", "c"], ["r", "s", "t", "c"]]
    big = dict(rrf(lists, k=60))  # c = 2/64 = 0.03125 > a = 1/61 = 0.01639
    assert big["c"] == pytest.approx(2 / 64) and big["a"] == pytest.approx(1 / 61)
    assert rrf(lists, k=60)[0][0] == "c"
    small = dict(rrf(lists, k=1))  # a = 1/2 = 0.5 > c = 2/5 = 0.4
    assert small["a"] == pytest.approx(0.5) and small["c"] == pytest.approx(0.4)
    assert [i for i, _ in rrf(lists, k=1)][:3] == ["a", "r", "c"]


def test_rrf_weights():
    fused = rrf([["a", "b"], ["b", "a"]], k=5, weights=(1.0, 2.0))
    # a: 1/6 + 2/7 = 0.45238; b: 1/7 + 2/6 = 0.47619
    assert fused == [("b", pytest.approx(1 / 7 + 2 / 6)), ("a", pytest.approx(1 / 6 + 2 / 7))]


def test_rrf_ties_broken_by_id_and_duplicates_count_once():
    assert [i for i, _ in rrf([["b", "a"], ["a", "b"]], k=5)] == ["a", "b"]
    assert rrf([["a", "a", "b"]], k=5) == [("a", pytest.approx(1 / 6)), ("b", pytest.approx(1 / 7))]


def test_rrf_empty_and_bad_input():
    assert rrf([]) == []
    assert rrf([[], []]) == []
    with pytest.raises(ValueError, match="positive"):
        rrf([["a"]], k=0)
    with pytest.raises(ValueError, match="1 weights given for 2 lists"):
        rrf([["a"], ["b"]], weights=[1.0])


def test_minmax_hand_computed():
    sparse = [("a", 10.0), ("b", 6.0), ("c", 2.0)]
    dense = [("b", 0.9), ("d", 0.5), ("a", 0.4)]
    fused = minmax([sparse, dense], weights=(0.3, 0.7))
    # sparse norm: a 1.0, b 0.5, c 0.0; dense norm: b 1.0, d 0.2, a 0.0
    # a 0.3; b 0.15 + 0.7 = 0.85; c 0.0; d 0.14
    assert [i for i, _ in fused] == ["b", "a", "d", "c"]
    assert [s for _, s in fused] == pytest.approx([0.85, 0.3, 0.14, 0.0])


def test_minmax_all_equal_list_maps_to_one_and_missing_is_zero():
    fused = minmax([[("a", 3.0), ("b", 3.0)], [("c", 0.2)]], weights=(1.0, 1.0))
    assert fused == [("a", 1.0), ("b", 1.0), ("c", 1.0)]
    assert minmax([[("x", -1.0)], []]) == [("x", 1.0)]


def test_minmax_default_weights_and_ties_by_id():
    fused = minmax([[("b", 1.0), ("a", 0.0)], [("a", 1.0), ("b", 0.0)]])
    assert fused == [("a", 1.0), ("b", 1.0)]


def test_inputs_not_mutated():
    lists = [["a", "b"], ["b", "c"]]
    scored = [[("a", 2.0), ("b", 1.0)], [("c", 0.5)]]
    weights = [0.3, 0.7]
    before = copy.deepcopy((lists, scored, weights))
    rrf(lists, k=5, weights=weights)
    minmax(scored, weights=weights)
    assert (lists, scored, weights) == before


def test_accepts_tuples_and_generators_of_pairs():
    assert minmax((tuple([("a", 1.0)]),)) == [("a", 1.0)]
    assert rrf((("a", "b"),), k=5)[0] == ("a", pytest.approx(1 / 6))
