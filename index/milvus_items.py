"""Policy items stored with a Milvus knowledge base: the side collection ``C_items``.

The Milvus implementation of :class:`policyqa.index.items.ItemStore` (the
in-process index's is :class:`~policyqa.index.items.ItemFile`): the same four
verbs, so :func:`~policyqa.index.items.sync_items` keeps both alike — items
derived once per document when it is indexed, only the added document's on
``add``, dropped with the document on ``remove``, everything re-derived when
the extractor changes.

One collection, two kinds of row, both carrying ``doc_id`` (so removing a
document is one delete by filter):

* ``pk = "doc:" + doc_id``, ``kind = "doc"``: the SHA-256 of the text the
  document's items were read from (a document with no items still has one);
* ``pk = item_id``, ``kind = "item"``: ``payload`` = ``PolicyItem.to_dict()``.

The extractor version is the ``items`` record of ``C_meta``.  Items are few (a
few per granting clause), so the store mirrors them in memory, replaced
copy-on-write: a catalogue already handed out never changes.  The collection
is optional — an index written before items were stored in Milvus gets it
created and filled on its first load (:meth:`MilvusItems.open`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from policyqa.corpus.items import ItemCatalog, PolicyItem
from policyqa.index.items import ItemsInMemory

if TYPE_CHECKING:  # pragma: no cover
    from policyqa.index.milvus_store import MilvusStore

__all__ = ["MilvusItems", "SUFFIX"]

SUFFIX = "_items"
_PAGE = 200  # documents per query when reading items back


class MilvusItems(ItemsInMemory):
    """The ``C_items`` :class:`~policyqa.index.items.ItemStore` of one :class:`MilvusStore`."""

    def __init__(self, store: "MilvusStore", name: str) -> None:
        self._store = store
        self.name = name
        self._by_doc: dict[str, tuple[PolicyItem, ...]] = {}
        self._shas: dict[str, str] = {}
        self._extractor = ""
        self._catalog: ItemCatalog | None = None

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, store: "MilvusStore", fresh: bool = False) -> tuple["MilvusItems", str]:
        """The item store of ``store`` and "" — or, when the collection had to be
        created (``fresh``, or an index written before items were kept in Milvus),
        the reason, for :class:`~policyqa.index.items.SyncReport`."""
        name = store.config.collection + SUFFIX
        self = cls(store, name)
        c = store.client
        exists = store._call("has_collection", c.has_collection, name)
        if exists and fresh:
            store._call("drop_collection", c.drop_collection, name)
            exists = False
        if not exists:
            self._create()
            return self, "" if fresh else "no policy-item collection (an index written before items were stored in Milvus)"
        store._call("load_collection", c.load_collection, name)
        self._read()
        return self, ""

    def _create(self) -> None:
        from pymilvus import DataType

        c = self._store.client
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1200)
        s.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        s.add_field("kind", DataType.VARCHAR, max_length=8)
        s.add_field("sha256", DataType.VARCHAR, max_length=64)
        s.add_field("payload", DataType.JSON)
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        ip = c.prepare_index_params()
        ip.add_index("_v", index_type="FLAT", metric_type="L2")
        self._store._call("create_collection", self._store._make_collection, self.name, s, ip)

    def _read(self) -> None:
        st = self._store
        rows = st._call("query", st.client.query, st.names["meta"], filter='key == "items"', output_fields=["value"])
        self._extractor = str((rows[0]["value"] or {}).get("extractor", "")) if rows else ""
        docs = st._call("query", st.client.query, self.name, filter='kind == "doc"', output_fields=["doc_id", "sha256"], limit=16384)
        self._shas = {r["doc_id"]: r["sha256"] for r in docs}
        by_doc: dict[str, list[PolicyItem]] = {d: [] for d in self._shas}
        ids = list(self._shas)
        from policyqa.index.milvus_store import _list

        for i in range(0, len(ids), _PAGE):
            part = ids[i : i + _PAGE]
            rows = st._call("query", st.client.query, self.name, filter=f'kind == "item" and doc_id in {_list(part)}',
                            output_fields=["payload"], limit=16384)
            for r in sorted(rows, key=lambda r: int(r["payload"].get("_ord", 0))):
                it = PolicyItem.from_dict(r["payload"])
                by_doc.setdefault(it.doc_id, []).append(it)
        self._by_doc = {d: tuple(v) for d, v in by_doc.items()}

    # -- ItemStore ------------------------------------------------------------------------

    @property
    def extractor(self) -> str:
        return self._extractor

    @extractor.setter
    def extractor(self, value: str) -> None:
        if value != self._extractor:
            st = self._store
            st._call("items record write", st.client.upsert, st.names["meta"],
                     [{"key": "items", "value": {"extractor": value}, "_v": [0.0, 0.0]}])
            self._extractor = value

    def put(self, doc_id: str, sha256: str, items: Sequence[PolicyItem]) -> None:
        from policyqa.index.milvus_store import literal

        st = self._store
        st._call("delete", st.client.delete, self.name, filter=f"doc_id == {literal(doc_id)}")
        rows = [{"pk": "doc:" + doc_id, "doc_id": doc_id, "kind": "doc", "sha256": sha256 or "", "payload": {}, "_v": [0.0, 0.0]}]
        rows += [{"pk": it.item_id, "doc_id": doc_id, "kind": "item", "sha256": "", "payload": {**it.to_dict(), "_ord": i},
                  "_v": [0.0, 0.0]} for i, it in enumerate(items)]
        st._write("insert", self.name, rows)
        self._by_doc = {**self._by_doc, doc_id: tuple(items)}
        self._shas = {**self._shas, doc_id: sha256}
        self._catalog = None

    def delete(self, doc_id: str) -> None:
        from policyqa.index.milvus_store import literal

        st = self._store
        st._call("delete", st.client.delete, self.name, filter=f"doc_id == {literal(doc_id)}")
        self._by_doc = {d: v for d, v in self._by_doc.items() if d != doc_id}
        self._shas = {d: v for d, v in self._shas.items() if d != doc_id}
        self._catalog = None

    def drop(self) -> None:
        st = self._store
        if st._call("has_collection", st.client.has_collection, self.name):
            st._call("drop_collection", st.client.drop_collection, self.name)

