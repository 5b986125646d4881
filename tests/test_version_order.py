"""qa/versions: which retrieved document is the newer version, and the order hits are read in."""

from policyqa.corpus.types import Chunk, DocMeta
from policyqa.index.types import Hit
from policyqa.qa.versions import named_docs, named_version, newer_first, newer_versions

OLD = DocMeta("old", title="桐溪县关于支持制造业高质量发展的若干政策", issuer="桐溪县人民政府", date="2021-03-01", doc_number="桐政发〔2021〕9号")
NEW = DocMeta("new", title="桐溪县关于支持制造业高质量发展的若干政策（修订）", issuer="桐溪县人民政府", date="2024-02-01")
OTHER = DocMeta("other", title="桐溪县关于支持现代服务业发展的若干措施", issuer="桐溪县人民政府", date="2023-01-01")
DOCS = {d.doc_id: d for d in (OLD, NEW, OTHER)}


def _hit(doc: str, rank: int) -> Hit:
    ch = Chunk(chunk_id=f"{doc}#{rank}", doc_id=doc, section="", text=f"{doc} 第{rank}段", start=0, end=5)
    return Hit(chunk=ch, score=1.0 / rank, rank=rank)


def test_a_later_document_of_the_same_issuer_and_title_supersedes_an_earlier_one():
    assert newer_versions(DOCS, "old") == ["new"]
    assert newer_versions(DOCS, "new") == [] and newer_versions(DOCS, "other") == []
    linked = {**DOCS, "old": DocMeta("old", title="任意标题", date="2021-03-01", superseded_by=("other",))}
    assert newer_versions(linked, "old") == ["other"]  # the corpus metadata's link wins


def test_the_newer_version_leads_and_the_older_follows_it_with_ranks_renumbered():
    hits = [_hit("old", 1), _hit("other", 2), _hit("new", 3), _hit("old", 4)]
    out = newer_first(DOCS, hits, "制造业政策补贴多少？")
    assert [h.chunk.doc_id for h in out] == ["other", "new", "old", "old"]
    assert [h.rank for h in out] == [1, 2, 3, 4]


def test_a_question_naming_the_older_version_keeps_its_order():
    hits = [_hit("old", 1), _hit("new", 2)]
    for asked in ("桐政发〔2021〕9号规定补贴多少？", "2021年那版的补贴是多少？"):
        assert [h.chunk.doc_id for h in newer_first(DOCS, hits, asked)] == ["old", "new"]
    assert named_docs(DOCS, "按桐政发〔2021〕9号执行") == {"old"}
    assert named_version(DOCS, "2024年版的政策") == {"new"} and named_version(DOCS, "2023年版") == set()
