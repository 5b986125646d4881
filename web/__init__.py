"""The web app (``policyqa.web``): page, HTTP API, uploads, admin access and feedback.

Modules: ``render`` (pure HTML/Markdown rendering and escaping), ``uploads``
(limits, sandboxed parsing in ``parse_worker``), ``auth`` (admin token and
session), ``feedback`` (bounded, rotated JSON lines), ``jsonbody`` (safe JSON
parsing, shared with the CLI), ``http_api`` (``/api`` routes and ASGI
middlewares), ``ui`` (the Gradio page), ``context`` (the parts both share)
and ``server`` (``create_app``, ``serve``).  ``app.py`` at the package root is
the entry point.  Importing this package imports nothing heavy.
"""
