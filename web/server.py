"""The app: FastAPI with the HTTP API under ``/api`` and the Gradio page at ``/``; and the server that runs it.

* ``create_app(kb, settings, auth=...)`` -> a FastAPI app; tests build it over
  a tiny knowledge base.
* ``serve(host, port, index)`` checks the bind address and the admin token,
  opens the knowledge base (building it on first start) and runs uvicorn.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from policyqa.web.auth import AdminAuth, AuthError, check_bind, load_admin_token
from policyqa.web.context import Watcher, WebContext
from policyqa.web.feedback import FeedbackLog
from policyqa.web.http_api import API_BODY_LIMIT, PAGE_BODY_LIMIT, AdminGate, BodyLimit, ChineseLocale, add_api_routes
from policyqa.web.uploads import UploadDesk, UploadLimits

_T_START = time.monotonic()


def create_app(kb, settings, concurrency: int | None = None, ui: bool = True, auth: AdminAuth | None = None,
               limits: UploadLimits = UploadLimits(), parser: Callable | None = None,
               watch_seconds: float | None = None):
    """The FastAPI app: HTTP API under /api and the Gradio UI at /.

    Args:
        kb: an open :class:`KnowledgeBase`.
        settings: :class:`Settings` (home, feedback and upload paths).
        concurrency: answers computed at once by the UI queue (default
            ``$POLICYQA_CONCURRENCY`` or 4; the HTTP API uses the thread pool).
        ui: mount the Gradio UI (False: the HTTP API only, no gradio import).
        auth: the admin check (default: the token of :func:`load_admin_token`).
        limits: upload limits.
        parser: ``parser(path, limits) -> Parsed`` for uploads (default: the sandboxed worker).
        watch_seconds: reload the index every so many seconds when another
            process saved a newer one (None: don't watch).
    """
    from fastapi import FastAPI

    if auth is None:
        auth = AdminAuth(load_admin_token(settings.home).token)
    uploads = Path(settings.uploads_dir)
    uploads.mkdir(parents=True, exist_ok=True)
    web = WebContext(kb, settings, auth, UploadDesk(kb, uploads / ".staging", limits, parser),
                     FeedbackLog(settings.feedback_path), limits)
    if watch_seconds:
        web.watcher = Watcher(kb, watch_seconds).start()
    app = FastAPI(title="政策问答 API", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.web = web
    add_api_routes(app, web)
    upload_limit = limits.max_bytes * limits.max_files + 1_000_000

    def body_limit(path: str, method: str) -> int | None:
        if method in ("GET", "HEAD", "OPTIONS"):
            return None
        if path == "/api/documents" or path.endswith("/gradio_api/upload"):
            return upload_limit
        return API_BODY_LIMIT if path.startswith("/api/") else PAGE_BODY_LIMIT

    def admin_only(path: str, method: str) -> bool:
        return method == "POST" and (path == "/api/documents" or path.endswith("/gradio_api/upload"))

    app.add_middleware(AdminGate, auth=auth, guarded=admin_only)
    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(ChineseLocale)
    if not ui:
        return app
    from policyqa.web.ui import mount

    return mount(app, web, concurrency)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def warm(web: WebContext) -> None:
    """Load the embedding model (and tokenizer) now so the first real answer is quick."""
    try:
        print(f"embedding model ready ({web.warmup.run():.1f} s)", flush=True)
    except Exception as e:  # warming is best effort
        print(f"warm-up failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


def private_temp_dir(home: Path) -> Path:
    """Temporary files of this server (Gradio's uploads, multipart spool files) under ``home/tmp``, emptied at start."""
    tmp = Path(home) / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "gradio").mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(tmp / "gradio")  # read when gradio is imported and when the app is mounted
    tempfile.tempdir = str(tmp)
    return tmp


def serve(host: str = "127.0.0.1", port: int = 7860, index: str | None = None, watch_seconds: float = 2.0) -> int:
    """Open the knowledge base (building it on first start) and serve until Ctrl-C."""
    import uvicorn

    from policyqa.index.store import IndexStoreError
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    if not 0 < port < 65536:
        print(f"invalid port {port}", file=sys.stderr)
        return 2
    refused = check_bind(host)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    if not _port_free(host, port):
        print(f"port {port} on {host} is already in use; choose another with --port", file=sys.stderr)
        return 1
    settings = Settings.from_env(index_dir=index)
    try:
        token = load_admin_token(settings.home)
    except AuthError as e:
        print(str(e), file=sys.stderr)
        return 2
    private_temp_dir(Path(settings.home))
    # gradio's import (~4 s) overlaps with loading the index
    preload = threading.Thread(target=lambda: __import__("gradio"), name="import-gradio", daemon=True)
    preload.start()
    print(f"loading the index {settings.index_label} ...", flush=True)
    try:
        kb = KnowledgeBase.open(settings, build_if_missing=True, progress=True)
    except (IndexStoreError, ValueError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 1
    preload.join()
    app = create_app(kb, settings, auth=AdminAuth(token.token), watch_seconds=watch_seconds)
    web: WebContext = app.state.web
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)

    def announce():
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            print(f"政策问答 is running at http://{shown}:{port}/  (API: /api/ask, /api/health; "
                  f"ready in {time.monotonic() - _T_START:.1f} s; Ctrl-C to stop)", flush=True)
            warm(web)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="政策问答 web app and HTTP API")
    p.add_argument("--host", default=os.environ.get("POLICYQA_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("POLICYQA_PORT", "7860")))
    p.add_argument("--index", help="index directory (default: $POLICYQA_INDEX or $POLICYQA_HOME/index)")
    args = p.parse_args(argv)
    return serve(args.host, args.port, args.index)
