"""Admin access: reading is open; adding, removing, downloading originals and exporting feedback are not.

The token is ``POLICYQA_ADMIN_TOKEN`` or, when that is unset, one generated at
first start, printed once and stored with mode 600 in
``$POLICYQA_HOME/admin_token``.  Serving on a non-loopback address needs an
explicitly configured token (:func:`check_bind`).

A request is an admin's when it carries the token as ``Authorization: Bearer
<token>`` (scripts) or the session cookie the page gets from ``POST
/api/admin/session`` (HttpOnly, SameSite=Strict, expiring; its value is an
HMAC keyed by the token, so changing the token ends every session).  Every
comparison is constant-time (``hmac.compare_digest``).  The check runs on the
server for the HTTP API, for every Gradio event that changes the knowledge
base, and for Gradio's file-upload route.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

__all__ = ["AdminAuth", "AuthError", "load_admin_token", "check_bind", "COOKIE", "MIN_TOKEN_CHARS"]

COOKIE = "pqa_admin"
MIN_TOKEN_CHARS = 16
SESSION_SECONDS = 12 * 3600
TOKEN_FILE = "admin_token"


class AuthError(ValueError):
    """A misconfigured token; ``str(e)`` is one line."""


@dataclass(frozen=True)
class TokenSource:
    token: str
    origin: str  # "env" | "file" | "generated"
    path: Path | None = None


def load_admin_token(home: str | os.PathLike, env: Mapping[str, str] | None = None, announce=print) -> TokenSource:
    """The admin token: the environment's, else the stored one, else a new one (printed once, mode 600).

    Raises:
        AuthError: the configured token is shorter than :data:`MIN_TOKEN_CHARS`.
    """
    env = os.environ if env is None else env
    given = (env.get("POLICYQA_ADMIN_TOKEN") or "").strip()
    if given:
        if len(given) < MIN_TOKEN_CHARS:
            raise AuthError(f"POLICYQA_ADMIN_TOKEN is too short ({len(given)} characters); use at least {MIN_TOKEN_CHARS}")
        return TokenSource(given, "env")
    path = Path(home) / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= MIN_TOKEN_CHARS:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return TokenSource(token, "file", path)
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    os.replace(tmp, path)
    announce(f"admin token (shown once; stored in {path}, mode 600): {token}")
    return TokenSource(token, "generated", path)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, env: Mapping[str, str] | None = None) -> str:
    """"" when serving on ``host`` is allowed, else the one-line reason it is refused."""
    env = os.environ if env is None else env
    if is_loopback(host) or (env.get("POLICYQA_ADMIN_TOKEN") or "").strip():
        return ""
    return (f"refusing to serve on {host} without an admin token: set POLICYQA_ADMIN_TOKEN (at least "
            f"{MIN_TOKEN_CHARS} characters) so that only admins can add or remove documents")


class AdminAuth:
    """Checks requests for the admin token or session cookie (constant time)."""

    def __init__(self, token: str, session_seconds: int = SESSION_SECONDS) -> None:
        if len(token) < MIN_TOKEN_CHARS:
            raise AuthError(f"admin token too short; use at least {MIN_TOKEN_CHARS} characters")
        self._key = token.encode("utf-8")
        self.session_seconds = session_seconds

    def token_ok(self, candidate: Any) -> bool:
        if not isinstance(candidate, str) or not candidate:
            return False
        # compare digests, so the comparison time does not depend on the length either
        a = hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).digest()
        b = hashlib.sha256(self._key).digest()
        return hmac.compare_digest(a, b)

    def _sign(self, expires: int) -> str:
        return hmac.new(self._key, f"policyqa-admin-session:{expires}".encode(), hashlib.sha256).hexdigest()

    def new_session(self, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.session_seconds)
        return f"{expires}.{self._sign(expires)}"

    def session_ok(self, value: Any, now: float | None = None) -> bool:
        if not isinstance(value, str) or "." not in value:
            return False
        exp, _, sig = value.partition(".")
        if not exp.isdigit() or int(exp) < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(sig.encode(), self._sign(int(exp)).encode())

    def bearer(self, headers: Mapping[str, str]) -> str:
        value = headers.get("authorization") or headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def is_admin(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        """True when the request carries the token (Bearer) or a valid session cookie."""
        tok = self.bearer(headers)
        if tok:
            return self.token_ok(tok)
        return self.session_ok(cookies.get(COOKIE))

    def request_is_admin(self, request) -> bool:
        """For a Starlette request or a ``gr.Request`` (both have ``headers`` and ``cookies``)."""
        if request is None:
            return False
        try:
            headers = dict(request.headers or {})
            cookies = dict(request.cookies or {})
        except Exception:  # a gr.Request without an HTTP request behind it
            return False
        return self.is_admin({k.lower(): v for k, v in headers.items()}, cookies)


def warn(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
