"""政策问答 (policyqa): retrieval question answering over Chinese policy documents.

Data flows one way: ``corpus`` (load, clean, metadata, chunk) -> ``index``
(embeddings, FAISS, BM25) -> ``qa`` (retrieve, compose cited answers,
conversation) -> ``app`` / ``eval``.
"""

import os as _os

# torch and faiss-cpu each ship an OpenMP runtime; with the default ACTIVE wait
# policy their idle threads spin and starve each other on a 2-core machine
# (measured: dense search 950 ms -> 38 ms at 100k vectors; see docs/benchmark.md).
# Must be set before either library is imported.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
