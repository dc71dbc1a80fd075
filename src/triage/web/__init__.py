"""The policy workbench: ``triage serve``, a web page and a JSON API over a policy folder.

Owns the server (``app.py``: Starlette routes, the ``/v1/`` API and its OpenAPI document
in ``openapi.py``), the policy folder as files an author may edit (``workspace.py``: a
draft beside the published files, confined paths, atomic saves only of a policy that
loads, publishing with a merge or a named clash, published versions and revert),
the request guards (``security.py``: loopback or a token, CSRF, body limit, host check)
and the view models of the pages (``views.py``, rendered by a sandboxed, autoescaping
Jinja environment from ``templates/``, with ``static/``). Needs the ``web`` extra
(Starlette, uvicorn). May import everything below it (integrations, authoring, the
policy); only the CLI imports it.
"""

from __future__ import annotations

from .app import create_app
from .options import ServeOptions, check_bind

__all__ = ["ServeOptions", "check_bind", "create_app"]
