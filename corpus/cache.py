"""Where policyqa keeps files it derives and can rebuild (converted models, dictionary tables)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$POLICYQA_CACHE`` if set, else ``~/.cache/policyqa``."""
    env = os.environ.get("POLICYQA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "policyqa"
