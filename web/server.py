"""The app: FastAPI with the HTTP API under ``/api`` and the Gradio page at ``/``; and the server that runs it.

* ``create_app(kb, settings, auth=...)`` -> a FastAPI app; tests build it over
  a tiny knowledge base.
* ``serve(host, port, index)`` checks the bind address and the admin token,
  opens the knowledge base (building it on first start) and runs uvicorn.

Start-up does first what the first answer needs: ``serve`` answers on
``/api`` as soon as the index is loaded, and builds the Gradio page
(importing gradio and building the page: ~5 s of CPU on this machine) after
the first answer, in the background (:class:`DeferredUI`; until then ``/``
shows a short page that reloads itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from policyqa.web.auth import AdminAuth, AuthError, check_bind, load_admin_token
from policyqa.web.context import Watcher, WebContext
from policyqa.web.feedback import FeedbackLog
from policyqa.web.http_api import API_BODY_LIMIT, PAGE_BODY_LIMIT, AdminGate, BodyLimit, ChineseLocale, add_api_routes
from policyqa.web.uploads import UploadDesk, UploadLimits

_T_START = time.monotonic()


def create_app(kb, settings, concurrency: int | None = None, ui: bool = True, auth: AdminAuth | None = None,
               limits: UploadLimits = UploadLimits(), parser: Callable | None = None,
               watch_seconds: float | None = None, defer_ui: bool = False):
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
        defer_ui: do not build the UI now: ``app.state.deferred_ui.build()``
            builds it later (any thread) and the running app then serves it
            (:class:`DeferredUI`).
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
    deferred = DeferredUI(lambda: _ui_app(web, concurrency)) if ui and defer_ui else None
    app = FastAPI(title="政策问答 API", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=(lambda _app: deferred.lifespan()) if deferred else None)
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
    if deferred is not None:
        app.state.deferred_ui = deferred
        app.mount("/", deferred)
        return app
    from policyqa.web.ui import mount

    return mount(app, web, concurrency)


def _ui_app(web: WebContext, concurrency: int | None):
    """A FastAPI app holding only the Gradio page at ``/`` (what :class:`DeferredUI` serves)."""
    from fastapi import FastAPI

    from policyqa.web.ui import mount

    return mount(FastAPI(docs_url=None, redoc_url=None, openapi_url=None), web, concurrency)


_STARTING = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>政策问答</title></head><body style="font-family:sans-serif;margin:3em">
<p>政策问答正在启动，页面稍后自动刷新……</p><p>（问答接口 <code>/api/ask</code> 已可使用。）</p></body></html>"""
_FAILED = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>政策问答</title></head>
<body style="font-family:sans-serif;margin:3em"><p>网页界面未能加载，请联系管理员查看服务器日志。</p>
<p>（问答接口 <code>/api/ask</code> 仍可使用。）</p></body></html>"""


class DeferredUI:
    """The Gradio page, built after the app already answers.

    ASGI app mounted at ``/``.  :meth:`build` (any thread) builds the page
    (``make()``: a FastAPI app with Gradio mounted at ``/``); the app's
    lifespan (:meth:`lifespan`) then runs the page's own lifespan (Gradio's
    queue) on the server's event loop and from then on every request to
    ``/`` goes to the page.  Before that, ``/`` answers 503 with a short
    Chinese page that reloads itself every second; if building failed, 503
    with a page saying so (the HTTP API keeps working either way).
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._app = None  # the built page
        self._live = None  # the page, once its lifespan runs
        self.error = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._built: asyncio.Event | None = None

    @property
    def ready(self) -> bool:
        return self._live is not None

    def build(self) -> bool:
        """Build the page now (imports gradio); True when it was built."""
        try:
            app, error = self._make(), ""
        except Exception as e:  # the API keeps working; say why the page does not
            app, error = None, f"{type(e).__name__}: {e}"
            print(f"the web page could not be built ({error}); the HTTP API under /api keeps working",
                  file=sys.stderr, flush=True)
        with self._lock:
            self._app, self.error = app, error
            if self._loop is not None and self._built is not None:
                self._loop.call_soon_threadsafe(self._built.set)
        return app is not None

    @contextlib.asynccontextmanager
    async def lifespan(self):
        with self._lock:
            self._loop, self._built = asyncio.get_running_loop(), asyncio.Event()
            if self._app is not None or self.error:
                self._built.set()
        stop = asyncio.Event()
        task = asyncio.create_task(self._serve(stop))
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(task, 10)

    async def _serve(self, stop: asyncio.Event) -> None:
        built, stopped = asyncio.create_task(self._built.wait()), asyncio.create_task(stop.wait())
        await asyncio.wait({built, stopped}, return_when=asyncio.FIRST_COMPLETED)
        built.cancel()
        stopped.cancel()
        app = self._app
        if stop.is_set() or app is None:
            return
        async with app.router.lifespan_context(app):
            self._live = app
            await stop.wait()
            self._live = None

    async def __call__(self, scope, receive, send) -> None:
        app = self._live
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        if scope["type"] != "http":
            return
        from starlette.responses import HTMLResponse

        page = _FAILED if self.error else _STARTING
        headers = {"Cache-Control": "no-store"} if self.error else {"Retry-After": "1", "Cache-Control": "no-store"}
        await HTMLResponse(page, status_code=503, headers=headers)(scope, receive, send)


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
    print(f"loading the index {settings.index_label} ...", flush=True)
    try:
        kb = KnowledgeBase.open(settings, build_if_missing=True, progress=True)
    except (IndexStoreError, ValueError, OSError) as e:
        print(str(e), file=sys.stderr)
        return 1
    # the page is built after the first answer (DeferredUI): /api answers meanwhile
    app = create_app(kb, settings, auth=AdminAuth(token.token), watch_seconds=watch_seconds, defer_ui=True)
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
            if app.state.deferred_ui.build():
                print(f"web page ready ({time.monotonic() - _T_START:.1f} s after start)", flush=True)

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
