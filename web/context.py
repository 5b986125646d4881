"""The parts the web page and the HTTP API share, passed into both (no globals)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from policyqa.web.auth import AdminAuth
from policyqa.web.feedback import FeedbackLog
from policyqa.web.uploads import UploadDesk, UploadLimits

MAX_QUESTION_CHARS = 10_000  # longer bodies are bad input; the answerer itself politely refuses >2000
MAX_HISTORY_TURNS = 50


class Warmup:
    """Loads the embedding model once, in the background; questions that arrive meanwhile wait for it."""

    def __init__(self, kb) -> None:
        self.kb = kb
        self._lock = threading.Lock()
        self.done = False

    def run(self, question: str = "工业机器人补贴") -> float:
        t = time.monotonic()
        with self._lock:
            self.kb.answer(question)
            self.done = True
        return time.monotonic() - t

    def wait(self) -> None:
        if not self.done:
            with self._lock:
                pass


class Watcher:
    """Calls ``kb.refresh()`` every ``interval`` seconds (notices an index another process saved)."""

    def __init__(self, kb, interval: float) -> None:
        self.kb = kb
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="index-watch", daemon=True)

    def start(self) -> "Watcher":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.kb.refresh():
                    print(f"reloaded the index: another process changed it ({len(self.kb.documents())} documents)",
                          file=sys.stderr, flush=True)
            except Exception as e:  # keep watching; one line per failure
                print(f"index watch: {type(e).__name__}: {e}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class WebContext:
    """Everything the UI and the API use.

    Attributes:
        kb: the :class:`KnowledgeBase` (answer, documents, chunks, original, add, remove).
        settings: paths (home, uploads, feedback).
        auth: the admin check.
        desk: uploads (validated, parsed in a sandboxed worker, added).
        feedback: the feedback log.
        limits: upload limits (shown in the page).
    """

    kb: Any
    settings: Any
    auth: AdminAuth
    desk: UploadDesk
    feedback: FeedbackLog
    limits: UploadLimits
    warmup: Warmup = field(init=False)
    watcher: Watcher | None = None
    blocks: Any = None  # the Gradio Blocks, once mounted

    def __post_init__(self) -> None:
        self.warmup = Warmup(self.kb)

    def ask(self, question: str, history=None, region: str = "", doc_ids: Sequence[str] = (), top_k: int | None = None):
        from policyqa.index.types import Filters

        self.warmup.wait()
        filters = Filters(region=region or "", doc_ids=tuple(doc_ids or ()))
        return self.kb.answer(question, history=history or None, filters=filters, top_k=top_k)

    def health(self) -> dict:
        s = self.kb.stats()
        return {"status": "ok", "documents": int(s["documents"]), "chunks": int(s["chunks"])}

    def stop(self) -> None:
        if self.watcher:
            self.watcher.stop()
