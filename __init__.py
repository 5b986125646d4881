"""政策问答 (policyqa): retrieval question answering over Chinese policy documents.

Data flows one way: ``corpus`` (load, clean, metadata, chunk) -> ``index``
(embeddings, FAISS, BM25) -> ``qa`` (retrieve, compose cited answers,
conversation) -> ``app`` / ``eval``.
"""

__version__ = "0.1.0"
