"""The backend-agnostic suite: every index backend gives the same retrieval and answers.

Backends: the in-process store (FAISS + bm25s), Milvus Lite in a temporary
directory, and Milvus Lite behind ``milvus-lite server --host 127.0.0.1`` on a
free loopback port reached through an ``http://`` URI - the same code, only
the URI changes.  All on the four-document fake corpus with the keyword
embedder, exact ids asserted.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fakes import CHUNKER_SETTINGS, VOCABULARY, KeywordEmbedder, corpus, jieba_tokenizer, make_chunks
from policyqa.corpus.types import DocMeta, Document, Period
from policyqa.index.backend import build_backend, check_backend, load_backend
from policyqa.index.hybrid import RetrievalConfig, doc_matches
from policyqa.index.store import IndexMismatch, IndexNotFound
from policyqa.index.types import Filters

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from policyqa.index.milvus_store import MilvusConfig, MilvusStore, doc_fields, filter_expression, literal  # noqa: E402

BACKENDS = ["inprocess", "milvus-lite", "milvus-server"]


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """``milvus-lite server`` bound to loopback on a free port; yields its URI."""
    exe = Path(sys.executable).with_name("milvus-lite")
    if not exe.exists():
        pytest.skip("milvus-lite command not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server")
    proc = subprocess.Popen([str(exe), "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"milvus-lite server exited: {proc.stderr.read().decode(errors='replace')[-500:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("milvus-lite server did not start in 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class Backend:
    """Builds and opens indexes of one backend kind in a temporary place."""

    def __init__(self, kind: str, tmp_path: Path, request) -> None:
        self.kind = kind
        self.tmp = tmp_path
        self.request = request
        self.n = 0

    @property
    def name(self) -> str:
        return "inprocess" if self.kind == "inprocess" else "milvus"

    def where(self, tag: str = "kb"):
        if self.kind == "inprocess":
            return {"index_dir": self.tmp / tag}
        if self.kind == "milvus-lite":
            return {"milvus": MilvusConfig(str(self.tmp / "milvus.db"), collection=tag)}
        uri = self.request.getfixturevalue("milvus_server")
        # one server for the module: a unique collection per test
        self.n += 1
        return {"milvus": MilvusConfig(uri, collection=f"{tag}_{self.n}_{abs(hash(self.request.node.nodeid)) % 10**8}")}

    def build(self, docs=None, chunks=None, embedder=None, where=None, **kw):
        if docs is None:
            docs, chunks = corpus()
        self.last_where = where or self.where()
        return build_backend(self.name, docs, chunks, embedder or KeywordEmbedder(VOCABULARY), jieba_tokenizer(),
                             chunker_settings=CHUNKER_SETTINGS, progress=False, **self.last_where, **kw)

    def load(self, where=None, **kw):
        kw.setdefault("embedder", KeywordEmbedder(VOCABULARY))
        return load_backend(self.name, tokenizer=jieba_tokenizer(), **(where or self.last_where), **kw)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    return Backend(request.param, tmp_path, request)


@pytest.fixture
def built(backend):
    return backend.build()


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request, tmp_path_factory):
    """One read-only index per backend for the tests that only search."""
    b = Backend(request.param, tmp_path_factory.mktemp(request.param), request)
    return b.build(where=b.where("shared"))


# --- retrieval: same ids on every backend ---------------------------------------------

EXPECTED = [  # (mode, query, top ids)
    ("bm25", "专精特新小巨人奖励", ["d1#1", "d3#1"]),
    ("bm25", "上云奖励", ["d3#1", "d1#1"]),
    ("bm25", "首台套保险", ["d4#2"]),
    ("bm25", "绿色工厂", ["d2#2"]),
    ("dense", "专精特新小巨人奖励", ["d1#1", "d3#1"]),
    ("dense", "设备投资补助", ["d1#2", "d2#1"]),
    ("hybrid", "专精特新小巨人奖励", ["d1#1", "d3#1", "d1#2"]),
    ("hybrid", "设备投资补助", ["d1#2", "d2#1", "d1#1"]),
    ("hybrid", "設備投資補助", ["d1#2", "d2#1", "d1#1"]),  # traditional characters normalised
]


def test_same_hits_on_every_backend(shared):
    built = shared
    for mode, query, expected in EXPECTED:
        hits = built.retriever(RetrievalConfig(mode=mode)).search(query, len(expected))
        assert ids(hits) == expected, (mode, query)
        assert [h.rank for h in hits] == list(range(1, len(expected) + 1))
    hit = built.retriever().search("专精特新小巨人奖励", 1)[0]
    assert hit.dense_rank == 1 and hit.sparse_rank == 1 and hit.dense_score == pytest.approx(1.0, abs=1e-5)
    assert hit.chunk == {c.chunk_id: c for c in corpus()[1]}["d1#1"]  # section, spans, header read back whole


def test_batch_search_blank_and_zero(shared):
    r = shared.retriever()
    batch = r.batch_search(["上云奖励", "  ", "首台套"], 3)
    assert batch[0] == r.search("上云奖励", 3) and batch[1] == [] and batch[2] == r.search("首台套", 3)
    assert r.search("奖励", 0) == []
    with pytest.raises(TypeError, match="list of queries"):
        r.batch_search("奖励")


@pytest.mark.parametrize(
    "filters, expected_docs",
    [
        (Filters(region="江苏省"), {"d1", "d3"}),
        (Filters(region="亭湖区"), {"d3"}),
        (Filters(region="江苏省盐城市亭湖区"), {"d3"}),
        (Filters(doc_ids=("d2", "d4")), {"d2", "d4"}),
        (Filters(doc_types=("plan",)), {"d2"}),
        (Filters(years=(2018, 2019)), {"d2"}),
        (Filters(years=(2023, 2023)), {"d1", "d3", "d4"}),
        (Filters(region="江苏省", years=(2023, 2023), doc_types=("interview",)), {"d3"}),
        (Filters(region="北京市"), set()),
    ],
)
def test_filters_on_every_backend(shared, filters, expected_docs):
    hits = shared.retriever().search("企业奖励补助", 10, filters)
    assert {h.chunk.doc_id for h in hits} == expected_docs


def test_chunk_lookups(shared):
    r = shared.retriever()
    assert [c.chunk_id for c in r.chunks_of("d1")] == ["d1#1", "d1#2"]
    assert r.chunks_of("nope") == []
    got = r.get_chunks(["d2#2", "missing", "d4#1"])
    assert set(got) == {"d2#2", "d4#1"} and got["d2#2"].text == "推进工业绿色化改造，创建绿色工厂。"
    assert set(r.docs) == {"d1", "d2", "d3", "d4"} and r.docs["d3"].district == "亭湖区"


# --- persistence and manifest ----------------------------------------------------------


def test_reopen_gives_same_results(backend, built):
    queries = ["专精特新小巨人奖励", "上云奖励", "设备投资补助", "首台套保险", "绿色工厂"]
    before = built.retriever().batch_search(queries, 5)
    again = backend.load()
    assert again.retriever().batch_search(queries, 5) == before
    m = again.manifest
    assert m["embedding"] == {"model": "fake-keyword", "backend": "fake", "dim": len(VOCABULARY) + 1}
    assert m["chunker"] == CHUNKER_SETTINGS and m["documents"] == ["d1", "d2", "d3", "d4"] and m["n_chunks"] == 7
    assert m["corpus_fingerprint"] == built.manifest["corpus_fingerprint"]
    assert again.n_chunks == 7


def test_mismatch_and_missing_are_clear_errors(backend, built):
    with pytest.raises(IndexMismatch, match=r"embedding model 'fake-keyword'.*rebuild with: policyqa build"):
        backend.load(embedder=KeywordEmbedder(VOCABULARY, name="other-model"))
    with pytest.raises(IndexMismatch, match=r"chunker settings.*max_chars=448 \(index\) vs 300"):
        backend.load(chunker_settings={**CHUNKER_SETTINGS, "max_chars": 300})
    with pytest.raises(IndexNotFound, match="build one with: policyqa build"):
        backend.load(where=backend.where("nothing_here"))


# --- incremental change ----------------------------------------------------------------


def _sz_doc():
    text = "宿迁市对首台套装备给予奖励。\n宿迁市支持首台套保险。"
    doc = Document(DocMeta(doc_id="d5", title="宿迁首台套", region="江苏省宿迁市", province="江苏省", city="宿迁市",
                           date="2024-01-01", doc_type="notice"), text)
    return doc, make_chunks(doc, text.split("\n"))


def test_add_and_remove_touch_only_that_document(backend, built):
    emb = KeywordEmbedder(VOCABULARY)
    store = backend.load(embedder=emb)
    doc, chunks = _sz_doc()
    assert store.add([doc], chunks) == 2
    assert emb.document_calls[0] == [c.indexed_text() for c in chunks]  # only the new chunks were embedded
    assert all(any(t in c.text for c in chunks) for t in emb.embedded[len(chunks):])  # then (in-process) only their sentences
    store.save()
    assert ids(store.retriever().search("首台套", 5, Filters(region="宿迁市"))) == ["d5#1", "d5#2"]
    again = backend.load()
    assert ids(again.retriever().search("首台套", 1, Filters(doc_ids=("d5",)))) == ["d5#1"]
    assert again.n_chunks == 9 and list(again.docs)[-1] == "d5"
    # replace: an unchanged chunk keeps its vector, a changed one is re-embedded
    emb2 = KeywordEmbedder(VOCABULARY)
    again = backend.load(embedder=emb2)
    changed = Document(doc.meta, doc.text.replace("保险", "保险补偿"))
    assert again.add([changed], make_chunks(changed, changed.text.split("\n"))) == 1
    assert emb2.document_calls[0] == ["宿迁市支持首台套保险补偿。"]
    assert again.remove("d5") == 2
    again.save()
    assert "d5" not in again.docs and again.n_chunks == 7
    assert all(h.chunk.doc_id != "d5" for h in again.retriever().search("首台套", 10))
    assert backend.load().n_chunks == 7
    with pytest.raises(KeyError, match="'d5' is not in the index"):
        again.remove("d5")
    with pytest.raises(ValueError, match="already belongs to document 'd1'"):
        again.add([Document(DocMeta(doc_id="dx"), corpus()[0][0].text)], [corpus()[1][0].__class__(**{**corpus()[1][0].to_dict(), "doc_id": "dx"})])


def test_twenty_parallel_searches_while_a_document_is_added_and_removed(backend, built):
    """No error and no stale hit: a search started after remove() returned never sees the document."""
    store = backend.load()
    r = store.retriever(RetrievalConfig(mode="hybrid"))
    doc, chunks = _sz_doc()
    errors: list[BaseException] = []
    stale: list[str] = []
    removed_at = [float("inf")]
    stop = threading.Event()

    def searcher():
        try:
            while not stop.is_set():
                t0 = time.monotonic()
                hits = r.search("宿迁首台套保险奖励", 5)
                if t0 > removed_at[0] and any(h.chunk.doc_id == "d5" for h in hits):
                    stale.append(ids(hits)[0])
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=searcher) for _ in range(20)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            removed_at[0] = float("inf")
            store.add([doc], chunks)
            assert any(h.chunk.doc_id == "d5" for h in r.search("宿迁首台套保险奖励", 5))
            store.remove("d5")
            removed_at[0] = time.monotonic()
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:3]
    assert not stale


# --- answers through every backend -----------------------------------------------------


@pytest.fixture(scope="module")
def builtin_corpus():
    from policyqa.corpus.pipeline import chunk_documents, load_corpus

    docs = list(load_corpus().documents)
    return docs, chunk_documents(docs)


def test_answers_are_the_same_on_every_backend(backend, builtin_corpus):
    from datetime import date

    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.qa.answerer import Answerer
    from policyqa.qa.compose import ExtractiveComposer

    docs, chunks = builtin_corpus
    store = build_backend(backend.name, docs, chunks, KeywordEmbedder(["补贴", "奖励"]), jieba_tokenizer(),
                          chunker_settings=ChunkerConfig().to_dict(), progress=False, **backend.where("builtin"))
    tok = store.tokenizer.tokenize
    answerer = Answerer(store.retriever(RetrievalConfig(mode="bm25")), ExtractiveComposer(tok), store.docs, tok,
                        today=lambda: date(2026, 11, 22))
    a = answerer.answer("盐城亭湖区企业购买工业机器人有什么补贴？")
    assert not a.refused and "机器人" in a.text and a.citations
    chunk_of = {c.chunk_id: c for c in chunks}
    for c in a.citations:
        assert c.doc_id == chunk_of[c.chunk_id].doc_id and c.section == chunk_of[c.chunk_id].section
    assert answerer.answer("北京市中关村的独角兽企业有什么奖励？").refused
    interview = answerer.answer("宿迁对专精特新小巨人企业有什么奖励？")
    assert not interview.refused and interview.citations


def test_answer_texts_match_the_inprocess_store(tmp_path, builtin_corpus):
    """The same questions give the same answer text from Milvus Lite as from the in-process store."""
    from datetime import date

    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.qa.answerer import Answerer
    from policyqa.qa.compose import ExtractiveComposer

    docs, chunks = builtin_corpus
    emb = KeywordEmbedder(["补贴", "奖励", "机器人", "专精特新", "智能"])
    kw = dict(chunker_settings=ChunkerConfig().to_dict(), progress=False)
    local = build_backend("inprocess", docs, chunks, emb, jieba_tokenizer(), index_dir=tmp_path / "ix", **kw)
    milvus = MilvusStore.from_store(local, MilvusConfig(str(tmp_path / "m.db")))
    texts = {}
    for name, store in (("inprocess", local), ("milvus", milvus)):
        tok = store.tokenizer.tokenize
        answerer = Answerer(store.retriever(RetrievalConfig(mode="dense")), ExtractiveComposer(tok), store.docs, tok,
                            today=lambda: date(2026, 11, 22))
        texts[name] = [answerer.answer(q).text for q in
                       ("机器人补贴多少", "专精特新小巨人奖励多少钱", "智能车间有什么奖励", "宿迁对专精特新企业有什么奖励？")]
    assert texts["milvus"] == texts["inprocess"]


# --- the filter translation equals doc_matches ----------------------------------------

REGIONS = [("江苏省", "", ""), ("江苏省", "徐州市", ""), ("江苏省", "盐城市", "亭湖区"), ("江苏省", "宿迁市", ""),
           ("河南省", "漯河市", ""), ("安徽省", "宿州市", ""), ("", "", ""), ("北京市", "", ""), ("福建省", "福州市", "鼓楼区"),
           ("江苏省", "南京市", "鼓楼区")]
FILTER_REGIONS = ["江苏省", "徐州市", "亭湖区", "江苏省盐城市亭湖区", "盐城市亭湖区", "宿迁市", "河南省漯河市",
                  "北京市", "上海市", "江苏省宿迁市沭阳县", "鼓楼区", "全国", " ", "安徽", "盐城经济技术开发区", "桐溪县"]


def _random_meta(rng: random.Random, i: int) -> DocMeta:
    province, city, district = rng.choice(REGIONS)
    full = province + city + district
    national = rng.random() < 0.15
    level = "national" if national else rng.choice(["province", "city", "county", ""])
    jurisdiction = "全国" if national else rng.choice([full, full, full + rng.choice(["", "经济技术开发区"]), ""])
    region = "" if national else rng.choice([full, full, city or province, ""])
    year = rng.choice([None, 2015, 2017, 2019, 2020, 2022, 2023, 2024])
    period = rng.choice([None, None, Period(2017, 2020, "2017-2020年"), Period(None, 2020, "到2020年"),
                         Period(2023, 2025, "2023-2025年"), Period(2021, None, "2021年起")])
    return DocMeta(doc_id=f"doc'{i}\"", region=region, province=province, city=city, district=district,
                   issuer_level=level, jurisdiction=jurisdiction,
                   date=f"{year}-05-01" if year else "", doc_type=rng.choice(["notice", "plan", "interview", ""]), period=period)


def _random_filters(rng: random.Random, metas) -> Filters:
    return Filters(
        region=rng.choice(FILTER_REGIONS) if rng.random() < 0.6 else "",
        doc_ids=tuple(rng.sample([m.doc_id for m in metas], rng.randint(1, 5))) if rng.random() < 0.2 else (),
        doc_types=tuple(rng.sample(["notice", "plan", "interview", "work-points"], rng.randint(1, 2))) if rng.random() < 0.3 else (),
        years=tuple(rng.sample(range(2014, 2027), 2)) if rng.random() < 0.5 else None,
    )


def test_milvus_filter_selects_exactly_what_doc_matches_selects(tmp_path):
    """Property test on randomised metadata: when doc_matches changes, this fails until
    filter_expression (the one translation) follows."""
    rng = random.Random(7)
    metas = [_random_meta(rng, i) for i in range(80)]
    docs = [Document(m, f"{m.region}企业政策第{i}条。") for i, m in enumerate(metas)]
    chunks = [c for d in docs for c in make_chunks(d, [d.text])]
    store = MilvusStore.build(docs, chunks, KeywordEmbedder(VOCABULARY), jieba_tokenizer(), MilvusConfig(str(tmp_path / "p.db")),
                              chunker_settings=CHUNKER_SETTINGS, progress=False)
    client, coll = store.client, store.names["docs"]
    by_id = dict(store.docs)
    seen_nonempty = 0
    for _ in range(200):
        f = _random_filters(rng, metas)
        expr = filter_expression(f, by_id)
        want = {m.doc_id for m in by_id.values() if doc_matches(m, f)}
        rows = client.query(coll, filter=expr or 'doc_id != ""', output_fields=["doc_id"], limit=1000)
        assert {r["doc_id"] for r in rows} == want, (f, expr[:200])
        seen_nonempty += bool(want) and len(want) < len(metas)
    assert seen_nonempty > 50  # the filters really discriminate


def test_doc_fields_and_literals():
    meta = DocMeta(doc_id="x", region="江苏省盐城市亭湖区", province="江苏省", city="盐城市", district="亭湖区",
                   jurisdiction="江苏省盐城市亭湖区", issuer_level="county",
                   date="2017-10-24", period=Period(None, 2020, "到2020年"), valid_to="2020-12-31")
    f = doc_fields(meta)
    assert f["jurisdiction"] == "江苏省盐城市亭湖区" and not f["national"]
    assert f["jurisdiction_chain"] == ["江苏省", "江苏省盐城市", "江苏省盐城市亭湖区"]
    assert (f["date_year"], f["period_lo"], f["period_hi"], f["valid_to"]) == (2017, 2017, 2020, 20201231)
    assert doc_fields(DocMeta(doc_id="n", jurisdiction="全国", issuer_level="national"))["national"]
    assert literal('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(ValueError, match="line break"):
        literal("a\nb")
    assert filter_expression(None) == "" and filter_expression(Filters()) == ""
    with pytest.raises(ValueError, match="needs the document metadata"):
        filter_expression(Filters(region="江苏省"))


def test_backend_setting_and_config_errors(tmp_path):
    assert check_backend("") == "inprocess" and check_backend("Milvus") == "milvus" and check_backend("faiss") == "inprocess"
    with pytest.raises(ValueError, match="unknown index backend 'elastic'; choose one of inprocess, milvus"):
        check_backend("elastic")
    with pytest.raises(ValueError, match="invalid Milvus collection name"):
        MilvusConfig(str(tmp_path / "x.db"), collection="bad-name")
    assert MilvusConfig(str(tmp_path / "x.db")).resolved_dense_index() == "FLAT"
    assert MilvusConfig("http://127.0.0.1:19530").resolved_dense_index() == "HNSW"
    from policyqa.settings import Settings

    s = Settings(home=tmp_path, backend="milvus")
    assert s.milvus().uri == str(tmp_path / "milvus.db") and s.milvus().collection == "policyqa"


def test_unreachable_server_is_one_line(tmp_path):
    from policyqa.index.milvus_store import IndexUnavailable

    with pytest.raises(IndexUnavailable) as e:
        MilvusStore.load(MilvusConfig(f"http://127.0.0.1:{_free_port()}", timeout=2))
    assert "\n" not in str(e.value) and "127.0.0.1" in str(e.value)


def test_cli_migrate_copies_the_index_without_reembedding(tmp_path, capsys):
    from policyqa.cli import main

    local = build_backend("inprocess", *corpus(), KeywordEmbedder(VOCABULARY), jieba_tokenizer(), index_dir=tmp_path / "ix",
                          chunker_settings=CHUNKER_SETTINGS, progress=False)
    uri = str(tmp_path / "m.db")
    assert main(["migrate", "--to", "milvus", "--index", str(tmp_path / "ix"), "--milvus-uri", uri, "--collection", "kb"]) == 0
    assert "migrated 4 documents, 7 chunks" in capsys.readouterr().err
    emb = KeywordEmbedder(VOCABULARY)
    moved = MilvusStore.load(MilvusConfig(uri, collection="kb"), emb, tokenizer=jieba_tokenizer())
    assert emb.embedded == []  # vectors were copied, not recomputed
    assert moved.manifest["embedding"] == local.manifest["embedding"] and moved.manifest["chunker"] == CHUNKER_SETTINGS
    assert moved.manifest["corpus_fingerprint"] == local.manifest["corpus_fingerprint"]
    for q in ("专精特新小巨人奖励", "设备投资补助", "上云奖励"):
        assert ids(moved.retriever().search(q, 5)) == ids(local.retriever().search(q, 5))
    assert main(["migrate", "--to", "milvus", "--index", str(tmp_path / "none"), "--milvus-uri", uri]) == 1
    assert "migrate failed: no index at" in capsys.readouterr().err


def test_knowledge_base_on_milvus_adds_answers_replaces_and_removes(tmp_path, builtin_corpus):
    """The service's verbs work unchanged on a Milvus Lite knowledge base.

    Hybrid retrieval, as in the product: Milvus Lite scores BM25 per segment
    (README, "Scaling out"), so a document added after the build, alone in
    its segment, is found through the dense list, not by BM25 alone.
    """
    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    docs, chunks = builtin_corpus
    cfg = MilvusConfig(str(tmp_path / "kb.db"))
    vocab = ["补贴", "奖励", "测试市", "机器人"]
    store = MilvusStore.build(docs, chunks, KeywordEmbedder(vocab), jieba_tokenizer(), cfg,
                              chunker_settings=ChunkerConfig().to_dict(), progress=False)
    kb = KnowledgeBase(store, Settings(home=tmp_path, backend="milvus"), retrieval=RetrievalConfig(mode="hybrid"), llm=None)
    before = kb.stats()
    p = tmp_path / "测试市机器人补贴.txt"
    p.write_text("测试市关于机器人应用的通知\n一、支持政策\n1.测试市对购买协作机器人的企业按设备价款的37%给予补助。", encoding="utf-8")
    rep = kb.add([p])
    assert rep.added == ("测试市机器人补贴.txt",) and rep.chunks_embedded >= 1
    a = kb.answer("测试市买协作机器人补贴几成？", filters=Filters(doc_ids=("测试市机器人补贴.txt",)))
    assert "37%" in a.text and a.citations[0].doc_id == "测试市机器人补贴.txt"
    p.write_text(p.read_text(encoding="utf-8").replace("37%", "41%"), encoding="utf-8")
    assert kb.add([p]).replaced == ("测试市机器人补贴.txt",)
    a = kb.answer("测试市买协作机器人补贴几成？", filters=Filters(doc_ids=("测试市机器人补贴.txt",)))
    assert "41%" in a.text and "37%" not in a.text
    again = MilvusStore.load(cfg, KeywordEmbedder(vocab))  # the change is in Milvus
    assert "测试市机器人补贴.txt" in again.docs and again.n_chunks == kb.stats()["chunks"]
    assert kb.remove("测试市机器人补贴.txt") >= 1
    assert kb.stats() == before and "测试市机器人补贴.txt" not in MilvusStore.load(cfg).docs


def test_engine_fusion_is_milvus_rrf_with_dense_scores(tmp_path):
    store = MilvusStore.build(*corpus(), KeywordEmbedder(VOCABULARY), jieba_tokenizer(), MilvusConfig(str(tmp_path / "e.db")),
                              chunker_settings=CHUNKER_SETTINGS, progress=False)
    r = store.retriever(RetrievalConfig(mode="hybrid", weights=(1.0, 1.0)), engine_fusion=True)
    hits = r.search("专精特新小巨人奖励", 3)
    assert ids(hits)[:2] == ["d1#1", "d3#1"] and [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].dense_score == pytest.approx(1.0, abs=1e-5)  # recomputed from the stored vector
    assert {h.chunk.doc_id for h in r.search("企业奖励补助", 10, Filters(region="江苏省"))} == {"d1", "d3"}
    with pytest.raises(ValueError, match="equal weights only"):
        store.retriever(RetrievalConfig(mode="hybrid", weights=(1.0, 0.5)), engine_fusion=True)
