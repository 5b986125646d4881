"""DenseIndex with tiny hand-made vectors."""

import numpy as np
import pytest

from policyqa.index.dense import DenseIndex, l2_normalize

IDS = ["a", "b", "c", "d"]
VECS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.8, 0.6, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 2.0],  # not unit length: normalised on add
    ],
    dtype=np.float32,
)


@pytest.fixture
def index():
    ix = DenseIndex(3, kind="flat")
    ix.add(IDS, VECS)
    return ix


def ids(hits):
    return [i for i, _ in hits]


def test_exact_ids_and_cosine_scores(index):
    hits = index.search(np.array([1.0, 0.0, 0.0]), 4)
    assert ids(hits) == ["a", "b", "c", "d"]
    assert [round(s, 5) for _, s in hits] == [1.0, 0.8, 0.0, 0.0]
    assert ids(index.search(np.array([0.0, 0.0, 5.0]), 1)) == ["d"]
    assert index.search(np.array([0.0, 0.0, 5.0]), 1)[0][1] == pytest.approx(1.0)


def test_batch_search_and_k_larger_than_index(index):
    q = np.array([[0.0, 1.0, 0.0], [0.6, 0.8, 0.0]])
    res = index.batch_search(q, 10)
    assert [ids(r) for r in res] == [["c", "b", "a", "d"], ["b", "c", "a", "d"]]
    assert res[0] == index.search(q[0], 10)
    assert index.batch_search(q, 0) == [[], []]


def test_remove_then_search_does_not_return_removed(index):
    assert index.remove(["b", "zzz"]) == 1
    assert "b" not in index and len(index) == 3
    assert ids(index.search(np.array([0.8, 0.6, 0.0]), 10)) == ["a", "c", "d"]
    assert index.remove(["nope"]) == 0


def test_add_replaces_existing_id(index):
    index.add(["a"], np.array([[0.0, 0.0, 1.0]]))
    assert len(index) == 4
    assert ids(index.search(np.array([0.0, 0.0, 1.0]), 2)) == ["a", "d"]


def test_stored_vectors_are_normalised_copies(index):
    v = index.vectors(["d"])
    assert np.allclose(v, [[0.0, 0.0, 1.0]])
    v[0, 0] = 9.0
    assert np.allclose(index.vectors(["d"]), [[0.0, 0.0, 1.0]])
    assert np.allclose(VECS[3], [0.0, 0.0, 2.0])  # input not mutated
    with pytest.raises(KeyError, match="not in the dense index"):
        index.vectors(["nope"])


def test_save_load_round_trip(index, tmp_path):
    index.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faiss.index", "ids.txt", "vectors.npy"]
    assert (tmp_path / "ids.txt").read_text().splitlines() == IDS
    loaded = DenseIndex.load(tmp_path, kind="flat")
    q = np.array([[0.3, 0.2, 0.9]])
    assert loaded.batch_search(q, 4) == index.batch_search(q, 4)


def test_load_rebuilds_when_faiss_file_is_missing(index, tmp_path):
    index.save(tmp_path)
    (tmp_path / "faiss.index").unlink()
    loaded = DenseIndex.load(tmp_path)
    assert ids(loaded.search(np.array([0.0, 1.0, 0.0]), 2)) == ["c", "b"]


def test_hnsw_and_ivf_agree_with_flat_on_a_small_set():
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(120, 16)).astype(np.float32)
    names = [f"c{i:03d}" for i in range(120)]
    queries = rng.normal(size=(10, 16)).astype(np.float32)
    flat = DenseIndex(16, kind="flat")
    flat.add(names, vecs)
    expected = [ids(r) for r in flat.batch_search(queries, 5)]
    for kind in ("hnsw", "ivf"):
        ix = DenseIndex(16, kind=kind, ivf_nprobe=64)
        ix.add(names, vecs)
        assert [ids(r) for r in ix.batch_search(queries, 5)] == expected, kind


def test_auto_switches_to_hnsw_above_threshold(tmp_path):
    ix = DenseIndex(3, kind="auto", approx_threshold=3)
    ix.add(IDS[:2], VECS[:2])
    assert ix.resolved_kind() == "flat"
    ix.add(IDS[2:], VECS[2:])
    assert ix.resolved_kind() == "hnsw"
    assert ids(ix.search(np.array([0.0, 1.0, 0.0]), 1)) == ["c"]
    ix.save(tmp_path)
    assert DenseIndex.load(tmp_path, kind="auto", approx_threshold=3).resolved_kind() == "hnsw"


def test_empty_index():
    ix = DenseIndex(3)
    assert ix.search(np.array([1.0, 0.0, 0.0]), 5) == []


def test_bad_input(index):
    with pytest.raises(ValueError, match="unknown dense index kind"):
        DenseIndex(3, kind="annoy")
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        index.add(["x"], np.zeros((1, 4)))
    with pytest.raises(ValueError, match="one-line"):
        index.add(["x\ny"], np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        index.search(np.zeros(4), 1)
    with pytest.raises(FileNotFoundError, match="missing ids.txt"):
        DenseIndex.load("/nonexistent/dense")


def test_l2_normalize_keeps_zero_rows():
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]]) and out.dtype == np.float32


def test_appending_to_hnsw_adds_only_new_nodes_and_leaves_the_original_alone():
    import copy

    import faiss

    rng = np.random.default_rng(3)
    base = rng.standard_normal((300, 8)).astype(np.float32)
    d = DenseIndex(8, kind="hnsw")
    d.add([f"v{i}" for i in range(300)], base)
    before = d._faiss
    other = copy.copy(d)
    extra = rng.standard_normal((5, 8)).astype(np.float32)
    other.add([f"x{i}" for i in range(5)], extra)
    assert isinstance(other._faiss, faiss.IndexHNSW) and other._faiss is not before
    assert d._faiss is before and d._faiss.ntotal == 300 and len(d) == 300  # original untouched
    assert other._faiss.ntotal == 305 and other.search(extra[2], 1)[0][0] == "x2"
    assert other.ids[-5:] == [f"x{i}" for i in range(5)]
    np.testing.assert_allclose(other.vectors(["x4"]), l2_normalize(extra[4:5]), rtol=1e-6)
