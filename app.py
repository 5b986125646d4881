"""政策问答 web app: a Gradio chat and an HTTP API on one port.

``python app.py`` (or ``policyqa serve``) serves the built-in knowledge base:
the first start builds the index (progress printed), later starts load it.
The code lives in the ``policyqa.web`` package: ``render`` (escaped HTML and
Markdown), ``uploads`` (limits, sandboxed parsing), ``auth`` (admin token),
``feedback``, ``http_api`` (``/api`` and middlewares), ``ui`` (the Gradio
page) and ``server`` (``create_app``, ``serve``).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import sys  # noqa: E402

from policyqa.web.server import create_app, main, serve  # noqa: E402

__all__ = ["create_app", "serve", "main"]

if __name__ == "__main__":
    sys.exit(main())
