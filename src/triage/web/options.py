"""How ``triage serve`` runs: where it binds, the write token, read-only, limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from ..errors import TriageError

#: The environment variable that stands in for ``--token``.
TOKEN_VARIABLE = "TRIAGE_SERVE_TOKEN"
#: Request bodies above this many bytes are refused (413).
DEFAULT_MAX_BODY = 1_000_000


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """The options of one workbench; the app factory reads nothing else.

    ``token``: every write (save, publish, revert) needs it, and any host other than a
    loopback address requires one. ``corpus``: the JSON-lines complaints Impact decides
    (default: the bundled examples and labelled corpus). ``watch``: seconds between looks
    at the policy folder, so a change made outside the workbench (a deploy, a hand edit)
    is served too (None: only the workbench's publishes).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    read_only: bool = False
    max_body: int = DEFAULT_MAX_BODY
    corpus: tuple[Path, ...] = ()
    run_cases: bool = True
    watch: float | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(options: ServeOptions) -> None:
    """Refuse to serve beyond this machine without a token (``TriageError`` says how)."""
    if not options.loopback and not options.token:
        raise TriageError(
            f"serving on {options.host} needs a token: give --token T or set "
            f"{TOKEN_VARIABLE} (without one, only 127.0.0.1 is allowed)")
    if options.token is not None and len(options.token) < 8:
        raise TriageError("the token is too short: give at least 8 characters")
