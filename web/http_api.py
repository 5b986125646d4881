"""The HTTP API under ``/api`` and the ASGI middlewares that guard the whole app.

Open to everyone: ``POST /api/ask``, ``GET /api/health``, ``GET
/api/documents``, ``GET /api/documents/{id}/chunks``, ``GET /api/documents/{id}/items``, ``POST /api/feedback``,
``POST /api/match`` (an enterprise profile -> the ``policyqa match --json``
object; ``?format=csv|text``, ``?today=YYYY-MM-DD``) and ``POST
/api/compare`` (``{"topic", "regions"?, "today"?}`` -> the ``policyqa compare
--json`` object).
Admin only (token as ``Authorization: Bearer …`` or the page's session
cookie; checked here, on the server): ``POST /api/documents`` (multipart,
one or more ``file`` fields, optional ``replace=true``), ``DELETE
/api/documents/{id}``, ``GET /api/documents/{id}/original``, ``GET
/api/feedback`` (export).  ``POST/DELETE/GET /api/admin/session`` logs the
page in and out.

Bad input is a 400 with ``{"error": "one line"}``: invalid JSON, JSON nested
deeper than 32 levels, strings that are not valid Unicode (lone surrogates),
unknown fields.  Bodies over the limit are a 413 before they are read
(:class:`BodyLimit`).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from policyqa.web.auth import COOKIE
from policyqa.web.context import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, WebContext
from policyqa.web.feedback import parse_feedback
from policyqa.web.jsonbody import BadJSON, loads_checked

__all__ = ["add_api_routes", "parse_ask", "parse_compare", "parse_match_options", "BodyLimit", "AdminGate", "ChineseLocale", "API_BODY_LIMIT", "PAGE_BODY_LIMIT"]

API_BODY_LIMIT = 1_000_000  # JSON bodies of /api/*
PAGE_BODY_LIMIT = 8_000_000  # the page's own (Gradio) requests carry the chat so far
NEED_ADMIN = "需要管理员令牌：请求头 Authorization: Bearer <令牌>，或在页面「知识库」中登录"


def _object_with(body: Any, allowed: set[str]) -> None:
    """Raise BadJSON unless ``body`` is a JSON object whose fields are all in ``allowed``."""
    if not isinstance(body, dict):
        raise BadJSON("body must be a JSON object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise BadJSON(f"unknown field(s): {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def parse_ask(body: Any, known_docs: set[str] | None = None) -> dict:
    """Validate a ``POST /api/ask`` body; return ``WebContext.ask`` kwargs or raise BadJSON."""
    _object_with(body, {"question", "history", "region", "doc", "top_k"})
    q = body.get("question")
    if not isinstance(q, str) or not q.strip():
        raise BadJSON("'question' must be a non-empty string")
    if len(q) > MAX_QUESTION_CHARS:
        raise BadJSON(f"'question' is longer than {MAX_QUESTION_CHARS} characters")
    history = body.get("history")
    if history is not None:
        if not isinstance(history, list) or len(history) > MAX_HISTORY_TURNS:
            raise BadJSON(f"'history' must be a list of at most {MAX_HISTORY_TURNS} turns")
        for t in history:
            if not isinstance(t, dict) or not isinstance(t.get("question"), str) \
                    or any(not isinstance(t.get(k, ""), str) for k in ("answer", "resolved_question")):
                raise BadJSON("each 'history' turn must be an object {\"question\": str, \"answer\"?: str, \"resolved_question\"?: str}")
        history = [{"question": t["question"], "answer": t.get("answer", ""), "resolved_question": t.get("resolved_question", "")}
                   for t in history]
    region = body.get("region") or ""
    if not isinstance(region, str):
        raise BadJSON("'region' must be a string")
    doc = body.get("doc")
    if doc is None:
        docs: list[str] = []
    elif isinstance(doc, str):
        docs = [doc]
    elif isinstance(doc, list) and all(isinstance(d, str) for d in doc):
        docs = list(doc)
    else:
        raise BadJSON("'doc' must be a document id or a list of ids")
    if known_docs is not None:
        unknown = [d for d in docs if d not in known_docs]
        if unknown:
            raise BadJSON(f"unknown document id(s): {', '.join(unknown)}")
    top_k = body.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50):
        raise BadJSON("'top_k' must be an integer between 1 and 50")
    return {"question": q, "history": history, "region": region, "doc_ids": docs, "top_k": top_k}


MATCH_FORMATS = ("json", "csv", "text")
MAX_TOPIC_CHARS = 100
MAX_REGIONS = 20


def _iso_day(value: Any, name: str):
    from datetime import date

    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadJSON(f"'{name}' must be a date like 2025-06-01")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadJSON(f"'{name}' must be a date like 2025-06-01, not {value[:40]!r}") from None


def parse_match_options(query: Mapping[str, str]) -> dict:
    """``POST /api/match`` query parameters: ``format`` (json | csv | text), ``today``
    (judge validity on that day), ``include_unquantified`` (also grants without an amount)."""
    fmt = (query.get("format") or "json").strip().lower()
    if fmt not in MATCH_FORMATS:
        raise BadJSON(f"'format' must be one of {', '.join(MATCH_FORMATS)}")
    flag = (query.get("include_unquantified") or "").strip().lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no"):
        raise BadJSON("'include_unquantified' must be true or false")
    return {"format": fmt, "today": _iso_day(query.get("today"), "today"),
            "include_unquantified": flag in ("1", "true", "yes")}


def parse_compare(body: Any) -> dict:
    """Validate a ``POST /api/compare`` body; return ``KnowledgeBase.compare`` kwargs or raise BadJSON."""
    _object_with(body, {"topic", "regions", "today"})
    topic = body.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        raise BadJSON("'topic' must be a non-empty string, e.g. \"小巨人\"")
    if len(topic) > MAX_TOPIC_CHARS:
        raise BadJSON(f"'topic' is longer than {MAX_TOPIC_CHARS} characters")
    regions = body.get("regions")
    if regions is None:
        regions = []
    elif isinstance(regions, str):
        regions = [regions]
    if not isinstance(regions, list) or len(regions) > MAX_REGIONS or not all(isinstance(r, str) and len(r) <= 50 for r in regions):
        raise BadJSON(f"'regions' must be a list of at most {MAX_REGIONS} region names")
    return {"topic": topic.strip(), "regions": [r.strip() for r in regions if r.strip()], "today": _iso_day(body.get("today"), "today")}


def _error(msg: str, status: int = 400, **extra) -> JSONResponse:
    return JSONResponse({"error": msg, **extra}, status_code=status)


def _content_disposition(name: str) -> str:
    ascii_name = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def add_api_routes(app, web: WebContext) -> None:
    """Register the ``/api`` routes on a FastAPI app."""

    def admin(request: Request) -> JSONResponse | None:
        if web.auth.request_is_admin(request):
            return None
        return _error(NEED_ADMIN, 401) if not request.headers.get("authorization") else _error("管理员令牌不正确", 403)

    async def json_body(request: Request) -> Any:
        return loads_checked(await request.body(), max_bytes=API_BODY_LIMIT)

    @app.post("/api/ask")
    async def api_ask(request: Request):
        """Answer one question: same JSON object as `policyqa ask --json`."""
        try:
            kw = parse_ask(await json_body(request), {m.doc_id for m in web.kb.documents()})
        except BadJSON as e:
            return _error(str(e))
        a = await run_in_threadpool(web.ask, **kw)
        return JSONResponse(a.to_json())

    @app.post("/api/match")
    async def api_match(request: Request):
        """An enterprise profile (issue-13 JSON object) -> the items it can claim: the `policyqa match --json`
        object (``?format=csv`` for the CSV export, ``?format=text`` for copy-ready text). Unknown profile
        fields are reported in ``unknown_fields``; a value of the wrong type is a 400."""
        from policyqa.qa.match import ProfileError

        try:
            opts = parse_match_options(request.query_params)
            profile = await json_body(request)
            result = await run_in_threadpool(web.kb.match, profile, opts["today"], opts["include_unquantified"])
        except (BadJSON, ProfileError) as e:
            return _error(str(e))
        if opts["format"] == "csv":
            return Response(("\ufeff" + result.to_csv()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": _content_disposition("政策匹配结果.csv")})
        if opts["format"] == "text":
            return PlainTextResponse(result.to_text())
        return JSONResponse(result.to_json())

    @app.post("/api/compare")
    async def api_compare(request: Request):
        """One kind of reward across regions: the `policyqa compare --json` object."""
        try:
            kw = parse_compare(await json_body(request))
        except BadJSON as e:
            return _error(str(e))
        table = await run_in_threadpool(web.kb.compare, **kw)
        return JSONResponse(table.to_json())

    @app.get("/api/health")
    async def api_health():
        """Liveness and sizes; answered on the event loop, never queued behind answers."""
        return web.health()

    @app.get("/api/documents")
    async def api_documents():
        return [m.summary() for m in web.kb.documents()]

    @app.get("/api/documents/{doc_id:path}/chunks")
    async def api_chunks(doc_id: str):
        """A document's chunks in reading order (the chunk viewer)."""
        try:
            chunks = web.kb.chunks(doc_id)
        except KeyError:
            return _error(f"知识库中没有文档「{doc_id}」", 404)
        return [{"chunk_id": c.chunk_id, "section": c.section, "text": c.text} for c in chunks]

    @app.get("/api/documents/{doc_id:path}/items")
    async def api_doc_items(doc_id: str):
        """A document's policy items (``PolicyItem.to_dict()``, as ``policyqa docs --items DOC --json``)."""
        try:
            items = web.kb.items_of(doc_id)
        except KeyError:
            return _error(f"知识库中没有文档「{doc_id}」", 404)
        return [it.to_dict() for it in items]

    @app.get("/api/documents/{doc_id:path}/original")
    async def api_original(doc_id: str, request: Request):
        """Download the kept original file of a document (admin)."""
        if (denied := admin(request)) is not None:
            return denied
        path = web.kb.original(doc_id)
        if path is None:
            return _error(f"没有文档「{doc_id}」的原文件", 404)
        return FileResponse(path, media_type="application/octet-stream",
                            headers={"Content-Disposition": _content_disposition(doc_id)})

    @app.post("/api/documents")
    async def api_add_documents(request: Request):
        """Add one or more files (multipart ``file`` fields; ``replace=true`` replaces same-named documents)."""
        if (denied := admin(request)) is not None:
            return denied
        limits = web.limits
        stage = Path(web.desk.staging_dir) / f"api-{uuid.uuid4().hex}"
        try:
            try:
                form = await request.form(max_files=limits.max_files, max_fields=10)
            except Exception as e:  # malformed multipart, too many parts
                return _error(f"请求不是有效的 multipart/form-data（{type(e).__name__}: {str(e)[:100]}）")
            uploads = [f for key in ("file", "files") for f in form.getlist(key) if hasattr(f, "filename")]
            if not uploads:
                return _error("没有文件：用 multipart/form-data 的 file 字段上传")
            replace = str(form.get("replace", "")).lower() in ("1", "true", "yes", "on")
            stage.mkdir(parents=True)
            files = []
            for i, f in enumerate(uploads):
                dest = stage / str(i)
                dest.mkdir()
                target = dest / "upload"
                with open(target, "wb") as out:
                    while block := await f.read(1 << 20):
                        out.write(block)
                files.append((target, f.filename or "upload"))
                await f.close()
            results = await run_in_threadpool(web.desk.add_files, files, replace)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        body = {"results": [r.to_json() for r in results]}
        if any(r.ok for r in results):
            return JSONResponse(body)
        return _error(results[0].message, 400, **body)

    @app.delete("/api/documents/{doc_id:path}")
    async def api_remove_document(doc_id: str, request: Request):
        """Remove a document (admin); its original is kept in uploads/.removed/."""
        if (denied := admin(request)) is not None:
            return denied
        try:
            n = await run_in_threadpool(web.kb.remove, doc_id)
        except KeyError:
            return _error(f"知识库中没有文档「{doc_id}」", 404)
        except Exception as e:
            return _error(f"删除失败：{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", 500)
        return {"status": "ok", "doc_id": doc_id, "chunks": n}

    @app.post("/api/feedback")
    async def api_feedback(request: Request):
        try:
            record = parse_feedback(await json_body(request))
        except BadJSON as e:
            return _error(str(e))
        await run_in_threadpool(web.feedback.append, record)
        return {"status": "ok"}

    @app.get("/api/feedback")
    async def api_feedback_export(request: Request):
        """All feedback lines, rotated files included, oldest first (admin)."""
        if (denied := admin(request)) is not None:
            return denied
        return StreamingResponse(web.feedback.export(), media_type="application/x-ndjson",
                                 headers={"Content-Disposition": _content_disposition("feedback.jsonl")})

    @app.post("/api/admin/session")
    async def api_login(request: Request):
        """Log the page in: the token as Bearer header or ``{"token": …}``; sets the session cookie."""
        token = web.auth.bearer({k.lower(): v for k, v in request.headers.items()})
        if not token:
            try:
                body = await json_body(request)
                token = body.get("token") if isinstance(body, dict) else ""
            except BadJSON:
                token = ""
        if not web.auth.token_ok(token):
            return _error("管理员令牌不正确", 403)
        resp = JSONResponse({"admin": True})
        resp.set_cookie(COOKIE, web.auth.new_session(), max_age=web.auth.session_seconds, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
        return resp

    @app.delete("/api/admin/session")
    async def api_logout():
        resp = JSONResponse({"admin": False})
        resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return resp

    @app.get("/api/admin/session")
    async def api_session(request: Request):
        return {"admin": web.auth.request_is_admin(request)}


# =============================================================================
# ASGI middlewares
# =============================================================================


class _TooLarge(Exception):
    pass


async def _send_json(send, status: int, obj: dict) -> None:
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for request bodies over ``limit_for(path, method)`` bytes (None: no limit).

    The declared ``Content-Length`` is checked before anything is read; a
    body sent without one is counted while it streams in.
    """

    def __init__(self, app, limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""), scope.get("method", "GET"))
        if limit is None:
            return await self.app(scope, receive, send)
        msg = {"error": f"请求体超过 {limit:,} 字节的上限"}
        for k, v in scope.get("headers") or ():
            if k == b"content-length":
                try:
                    if int(v) > limit:
                        return await _send_json(send, 413, msg)
                except ValueError:
                    return await _send_json(send, 400, {"error": "invalid Content-Length"})
        seen = 0
        started = False

        async def limited():
            nonlocal seen
            m = await receive()
            if m["type"] == "http.request":
                seen += len(m.get("body") or b"")
                if seen > limit:
                    raise _TooLarge()
            return m

        async def tracked(m):
            nonlocal started
            if m["type"] == "http.response.start":
                started = True
            await send(m)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, msg)


class AdminGate:
    """Refuses admin-only requests before their body is read: file uploads to Gradio and to ``/api/documents``."""

    def __init__(self, app, auth, guarded: Callable[[str, str], bool]) -> None:
        self.app = app
        self.auth = auth
        self.guarded = guarded

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.guarded(scope.get("path", ""), scope.get("method", "GET")):
            from starlette.requests import Request as _Req

            if not self.auth.request_is_admin(_Req(scope)):
                return await _send_json(send, 401, {"error": NEED_ADMIN})
        return await self.app(scope, receive, send)


# Gradio's page follows the browser's language; this page is Chinese whatever the browser says.
LOCALE_SCRIPT = (b"<script>(function(){try{var p=Navigator.prototype;"
                 b"Object.defineProperty(p,'language',{get:function(){return 'zh-CN'},configurable:true});"
                 b"Object.defineProperty(p,'languages',{get:function(){return ['zh-CN','zh']},configurable:true});"
                 b"document.documentElement.lang='zh-CN';}catch(e){}})();</script>")


class ChineseLocale:
    """Injects :data:`LOCALE_SCRIPT` at the top of the page's ``<head>`` (before Gradio's scripts run)."""

    def __init__(self, app, paths: tuple[str, ...] = ("/",)) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") not in self.paths:
            return await self.app(scope, receive, send)
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(m):
            nonlocal start
            if m["type"] == "http.response.start":
                start = m
                return
            if m["type"] == "http.response.body":
                chunks.append(m.get("body") or b"")
                if m.get("more_body"):
                    return
                body = b"".join(chunks)
                ctype = dict(start.get("headers") or []).get(b"content-type", b"") if start else b""
                if b"text/html" in ctype and b"<head>" in body:
                    body = body.replace(b"<head>", b"<head>" + LOCALE_SCRIPT, 1).replace(b'lang="en"', b'lang="zh-CN"', 1)
                headers = [(k, v) for k, v in (start.get("headers") or []) if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(m)

        await self.app(scope, receive, capture)
