"""The guards in front of every request: body size, host, headers, and who may write.

A write (save, publish, revert) needs, when the workbench has a token, either
``Authorization: Bearer TOKEN`` (a service) or the session cookie set by the login form
together with the page's CSRF token (a browser); without a token (loopback only), the
CSRF token alone. The CSRF token is a random value of the app, given only inside its
own pages (which another site cannot read), sent back in ``X-CSRF-Token`` or a form's
``csrf`` field. On loopback the ``Host`` header must name this machine, so a page of
another site cannot reach the workbench through a DNS name that points here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The session cookie the login form sets.
SESSION_COOKIE = "triage_session"
#: Hosts a loopback workbench answers to.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
#: Headers on every response: no framing, no sniffing, scripts and styles from here only.
SECURITY_HEADERS = (
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


@dataclass(frozen=True, slots=True)
class Keys:
    """The app's secrets: made once per app, never written anywhere."""

    token: str | None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def session(self) -> str:
        """The session cookie's value for a browser that gave the token."""
        return hmac.new(self.session_key, b"session", hashlib.sha256).hexdigest()

    def token_matches(self, given: str | None) -> bool:
        return (self.token is not None and given is not None
                and hmac.compare_digest(given.encode(), self.token.encode()))

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())

    def may_write(self, headers: MutableMapping[str, str] | Any, cookies: Any,
                  form_csrf: str | None = None) -> tuple[bool, str]:
        """Whether a request may write, and if not, why (for the 403 body)."""
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            if self.token_matches(auth[7:].strip()):
                return True, ""
            return False, "the bearer token is wrong"
        csrf = headers.get("x-csrf-token") or form_csrf
        if not self.csrf_matches(csrf):
            return False, "missing or wrong CSRF token: write from the workbench's own page"
        if self.token is None:
            return True, ""
        cookie = cookies.get(SESSION_COOKIE)
        if cookie is not None and hmac.compare_digest(cookie.encode(), self.session().encode()):
            return True, ""
        return False, "this workbench needs its token: log in first (/login)"


class Guard:
    """ASGI middleware: refuse large bodies (413) and foreign hosts (421), add headers."""

    def __init__(self, app: ASGIApp, *, max_body: int, hosts: frozenset[str] | None) -> None:
        self.app = app
        self.max_body = max_body
        self.hosts = hosts  # None: any host (a token guards the writes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self.hosts is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.hosts:
                await _refuse(send, 421, f"this workbench does not answer to host {host!r}")
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, f"request body larger than {self.max_body} bytes")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.max_body:
                await _refuse(send, 413, f"request body larger than {self.max_body} bytes")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, replay, send_with_headers)


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
