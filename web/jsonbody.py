"""Parse untrusted JSON safely: bounded size and nesting, valid Unicode only.

``json.loads`` alone turns a 100,000-deep ``[[[[…`` into a RecursionError and
accepts lone surrogates (``"\\ud800"``) that fail later, when the text is
encoded for a response or a log line.  :func:`loads_checked` turns both, and
every other malformed input, into :class:`BadJSON` with a one-line message,
so callers answer 400 (HTTP) or exit 2 (CLI) instead of crashing.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["BadJSON", "loads_checked", "nesting_depth", "MAX_DEPTH"]

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJSON(ValueError):
    """Input that is not acceptable JSON; ``str(e)`` is a one-line message."""


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, ignoring brackets inside strings (linear scan)."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


def _check_strings(value: Any, path: str = "$") -> None:
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                raise BadJSON(f"{p} is not valid Unicode text (it contains a lone surrogate such as \\ud800)")
        elif isinstance(v, dict):
            for k, x in v.items():
                if _SURROGATE.search(k):
                    raise BadJSON(f"a key in {p} is not valid Unicode text (lone surrogate)")
                stack.append((x, f"{p}.{k}"))
        elif isinstance(v, list):
            stack.extend((x, f"{p}[{i}]") for i, x in enumerate(v))


def loads_checked(data: bytes | str, max_depth: int = MAX_DEPTH, max_bytes: int | None = None, what: str = "body") -> Any:
    """``json.loads`` for untrusted input.

    Raises:
        BadJSON: empty, too large, not UTF-8, not JSON, nested deeper than
            ``max_depth``, or holding a string that is not valid Unicode.
    """
    if isinstance(data, (bytes, bytearray)):
        if max_bytes is not None and len(data) > max_bytes:
            raise BadJSON(f"{what} is larger than {max_bytes:,} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise BadJSON(f"{what} is not UTF-8 text") from None
    else:
        text = data
        if max_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise BadJSON(f"{what} is larger than {max_bytes:,} bytes")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise BadJSON(f"empty {what}; send a JSON value")
    if nesting_depth(text) > max_depth:
        raise BadJSON(f"{what} is nested deeper than {max_depth} levels")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadJSON(f"{what} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise BadJSON(f"{what} is nested too deeply") from None
    _check_strings(value)
    return value
