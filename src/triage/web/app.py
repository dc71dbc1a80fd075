"""The workbench app: ``create_app(policy_dir, options)`` builds it; nothing is global.

Pages (server-rendered): ``/try``, ``/edit``, ``/test``, ``/impact``, ``/publish``,
``/login``. The JSON API: ``/v1/triage``, ``/v1/explain``, ``/v1/guard``, ``/v1/check``,
``/v1/publish``, ``/v1/draft``, ``/v1/policy``, ``/v1/versions``, ``/v1/openapi.json``.
Authors edit a draft (``Workspace``); the API decides with the published policy, in the
thread pool, on the ``PolicyStore``'s policy, which a publish swaps in one step, so no
request is dropped or decided by half of each version.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..authoring.cases import CaseResult, run_all
from ..authoring.diff import FIELDS, diff_policies, show_value
from ..authoring.explain import format_explanation
from ..authoring.labelled import complaint_records, sample_files
from ..complaint import Channel
from ..errors import ComplaintError, PolicyError, Problem, TriageError
from ..integrations.store import PolicyStore
from .openapi import openapi_document
from .options import ServeOptions
from .security import LOOPBACK_HOSTS, SESSION_COOKIE, Guard, Keys
from .views import decision_spans as spans_of
from .views import decision_view, pieces
from .workspace import PublishError, Workspace, WorkspaceError, problem_dict

Handler = Callable[[Request], Any]


@dataclass(frozen=True, slots=True)
class Workbench:
    """What every handler reads: the live store, the folder, the options and secrets."""

    store: PolicyStore
    workspace: Workspace
    options: ServeOptions
    keys: Keys
    pages: SandboxedEnvironment
    samples: tuple[Path, ...]


def create_app(policy_dir: str | Path, options: ServeOptions | None = None) -> Starlette:
    """The workbench over ``policy_dir`` (raises ``PolicyError`` when it does not load)."""
    options = options or ServeOptions()
    workspace = Workspace(Path(policy_dir), read_only=options.read_only)
    store = PolicyStore(workspace.root, run_cases=options.run_cases, watch=options.watch)
    pages = SandboxedEnvironment(loader=PackageLoader("triage.web", "templates"),
                                 autoescape=True, undefined=StrictUndefined)
    bench = Workbench(store, workspace, options, Keys(options.token), pages,
                      options.corpus or tuple(sample_files()))
    if not options.read_only:
        latest = workspace.versions()
        if not latest or latest[0].policy_version != store.version:
            workspace.record_publish(store.version, "triage serve", "启动时在用的版本")
        workspace.ensure_draft()
    h = _Handlers(bench)
    routes = [
        Route("/", h.home), Route("/try", h.try_page, methods=["GET", "POST"]),
        Route("/edit", h.edit_page), Route("/edit/save", h.save, methods=["POST"]),
        Route("/test", h.test_page), Route("/impact", h.impact_page),
        Route("/publish", h.publish_page, methods=["GET", "POST"]),
        Route("/revert", h.revert, methods=["POST"]),
        Route("/discard", h.discard, methods=["POST"]),
        Route("/login", h.login, methods=["GET", "POST"]),
        Route("/v1/triage", h.api_triage, methods=["POST"]),
        Route("/v1/explain", h.api_explain, methods=["POST"]),
        Route("/v1/guard", h.api_guard, methods=["POST"]),
        Route("/v1/check", h.api_check, methods=["POST"]),
        Route("/v1/publish", h.api_publish, methods=["POST"]),
        Route("/v1/draft", h.api_draft),
        Route("/v1/policy", h.api_policy), Route("/v1/versions", h.api_versions),
        Route("/v1/openapi.json", h.api_openapi),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static"),
    ]
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()  # stop watching the folder

    async def refused(request: Request, exc: Exception) -> Response:
        # the folder itself is not as a workbench may write it (a link in .workbench/)
        return _error(400, str(exc))

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={WorkspaceError: refused})
    hosts = frozenset({*LOOPBACK_HOSTS, options.host}) if options.loopback else None
    app.add_middleware(Guard, max_body=options.max_body, hosts=hosts)
    return app


def _records(paths: tuple[Path, ...]) -> list[dict[str, Any]]:
    return [record for path in paths for record in complaint_records(path)]


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    """The body as a JSON object, or the 400 that says why it is not one."""
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        return _error(400, "the body is not JSON")
    if not isinstance(data, dict):
        return _error(400, "the body must be a JSON object")
    return data


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each)."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


class _Handlers:
    """The route handlers of one workbench."""

    def __init__(self, bench: Workbench) -> None:
        self.b = bench

    # -- helpers ---------------------------------------------------------------------
    def _page(self, template: str, request: Request, status: int = 200,
              **context: Any) -> HTMLResponse:
        b = self.b
        policy = b.store.policy
        html = b.pages.get_template(template).render(
            csrf=b.keys.csrf, read_only=b.options.read_only, needs_login=self._needs_login(
                request), policy_name=policy.name, policy_version=policy.version,
            path=request.url.path, **context)
        return HTMLResponse(html, status_code=status)

    def _needs_login(self, request: Request) -> bool:
        keys = self.b.keys
        return keys.token is not None and request.cookies.get(SESSION_COOKIE) != keys.session()

    def _refuse_write(self, request: Request, form_csrf: str | None = None) -> Response | None:
        if self.b.options.read_only:
            return _error(403, "this workbench is read-only (triage serve --read-only)")
        ok, why = self.b.keys.may_write(request.headers, request.cookies, form_csrf)
        return None if ok else _error(403, why)

    # -- pages -----------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        return RedirectResponse("/try", status_code=303)

    async def try_page(self, request: Request) -> Response:
        form = await _form(request) if request.method == "POST" else {}
        drafted = bool((await run_in_threadpool(self.b.workspace.state)).changed)
        use = form.get("use") or ("draft" if drafted else "published")
        policy = self.b.store.policy
        view: dict[str, Any] | None = None
        error = None
        if request.method == "POST":
            if not self.b.keys.csrf_matches(form.get("csrf")):
                return _error(403, "missing or wrong CSRF token: use the workbench's page")
            record, error = _form_record(form)
            if use == "draft":
                try:
                    policy = await run_in_threadpool(self.b.workspace.load)
                except PolicyError as exc:
                    record, error = None, "草稿加载不了：" + "；".join(
                        p.format() for p in exc.problems[:3])
            if record is not None:
                try:
                    decision = await run_in_threadpool(policy.triage, record)
                    draft = form.get("draft", "")
                    view = decision_view(policy, decision, record["text"],
                                         self.b.workspace.root.name, draft,
                                         policy.guard(draft) if draft else [])
                except ComplaintError as exc:
                    error = "投诉记录有误：" + "；".join(f"{i.field}: {i.message}"
                                                   for i in exc.issues)
                except TriageError as exc:
                    error = str(exc)
        domains = sorted(policy.taxonomy.get("domain", {}).items())
        return self._page("try.html", request, form=form, view=view, error=error,
                          channels=[c.value for c in Channel], domains=domains, use=use,
                          drafted=drafted, decided_by=policy.version)

    async def edit_page(self, request: Request) -> Response:
        ws = self.b.workspace
        files = ws.files()
        name = request.query_params.get("file") or (files[0] if files else "")
        try:
            text = ws.read(name)
        except WorkspaceError as exc:
            return self._page("edit.html", request, status=404, files=files, name="",
                              text="", error=str(exc), line=0, saves=[], draft=ws.state())
        line = request.query_params.get("line", "0")
        return self._page("edit.html", request, files=files, name=name, text=text,
                          error=None, line=int(line) if line.isdigit() else 0,
                          saves=ws.saves(name)[:20], draft=ws.state())

    async def _write_body(self, request: Request) -> dict[str, Any] | Response:
        """The JSON object of a write, or the response that refuses it (no token, no
        CSRF, read-only, not a JSON object)."""
        refused = self._refuse_write(request)
        if refused is not None:
            return refused
        return await _json_body(request)

    async def save(self, request: Request) -> Response:
        data = await self._write_body(request)
        if isinstance(data, Response):
            return data
        name, text = data.get("file"), data.get("text")
        if not isinstance(name, str) or not isinstance(text, str):
            return _error(400, "give file and text (strings)")
        author = _author(data.get("author"))
        try:
            result = await run_in_threadpool(self.b.workspace.save, name, text, author)
        except WorkspaceError as exc:
            return _error(400, str(exc))
        body = {**result.to_dict(), "saved": result.ok}
        return JSONResponse(body, status_code=200 if result.ok else 422)

    async def test_page(self, request: Request) -> Response:
        def run() -> tuple[list[CaseResult | Problem], tuple[Problem, ...]]:
            try:
                policy = self.b.workspace.load()
            except PolicyError as exc:
                return [], exc.problems
            return list(run_all(policy, policy.path)), ()

        results, problems = await run_in_threadpool(run)
        root = self.b.workspace.root.name
        cases = [r for r in results if isinstance(r, CaseResult)]
        broken = [problem_dict(p, root) for p in
                  (*problems, *(r for r in results if isinstance(r, Problem)))]
        failed = [r for r in cases if not r.passed]
        return self._page("test.html", request, cases=cases, failed=failed, broken=broken,
                          passed=len(cases) - len(failed), root=root)

    async def impact_page(self, request: Request) -> Response:
        def run() -> tuple[Any, tuple[Problem, ...]]:
            try:
                new = self.b.workspace.load()
            except PolicyError as exc:
                return None, exc.problems
            return diff_policies(self.b.store.policy, new, _records(self.b.samples)), ()

        report, problems = await run_in_threadpool(run)
        groups = []
        if report is not None:
            for key in FIELDS:
                changes = [(d.complaint_id, *d.fields[key]) for d in report.decisions
                           if key in d.fields]
                if changes:
                    moves: dict[str, int] = {}
                    for _, before, after in changes:
                        move = f"{show_value(before)} → {show_value(after)}"
                        moves[move] = moves.get(move, 0) + 1
                    groups.append({"field": key, "count": len(changes),
                                   "moves": sorted(moves.items(), key=lambda m: -m[1]),
                                   "changes": [(c, show_value(b), show_value(a))
                                               for c, b, a in changes[:50]]})
        root = self.b.workspace.root.name
        return self._page("impact.html", request, report=report, groups=groups,
                          broken=[problem_dict(p, root) for p in problems])

    async def publish_page(self, request: Request) -> Response:
        message = error = None
        status = 200
        if request.method == "POST":
            form = await _form(request)
            refused = self._refuse_write(request, form.get("csrf"))
            if refused is not None:
                return refused
            ok, text = await run_in_threadpool(self._publish, _author(form.get("author")),
                                               form.get("note", "")[:200])
            message, error = (text, None) if ok else (None, text)
            status = 200 if ok else 409
        return await self._publish_view(request, status, message, error)

    async def _publish_view(self, request: Request, status: int, message: str | None,
                            error: str | None) -> Response:
        ws = self.b.workspace
        return self._page("publish.html", request, status=status, message=message,
                          error=error, versions=ws.versions(),
                          saved=await run_in_threadpool(self._saved_version),
                          draft=await run_in_threadpool(ws.state))

    def _saved_version(self) -> str | None:
        """The version of the draft as saved (None: it does not load)."""
        try:
            return self.b.workspace.load().version
        except PolicyError:
            return None

    def _publish(self, author: str, note: str) -> tuple[bool, str]:
        try:
            version = self.b.workspace.publish(self.b.store, author, note)
        except PublishError as exc:
            return False, "\n".join((str(exc), *exc.problems))
        return True, f"已发布第 {version.number} 版（策略版本 {version.policy_version}）"

    async def revert(self, request: Request) -> Response:
        form = await _form(request)
        refused = self._refuse_write(request, form.get("csrf"))
        if refused is not None:
            return refused
        number = form.get("number", "")
        if not number.isdigit():
            return _error(400, "give the number of a published version")

        def run() -> tuple[bool, str]:
            self.b.workspace.restore(int(number))
            return self._publish(_author(form.get("author")), f"恢复第 {number} 版")

        try:
            ok, text = await run_in_threadpool(run)
        except WorkspaceError as exc:
            return _error(400, str(exc))
        return await self._publish_view(request, 200 if ok else 409,
                                        text if ok else None, None if ok else text)

    async def discard(self, request: Request) -> Response:
        form = await _form(request)
        refused = self._refuse_write(request, form.get("csrf"))
        if refused is not None:
            return refused
        await run_in_threadpool(self.b.workspace.discard)
        return await self._publish_view(request, 200, "草稿已放弃，现在和在用的版本一样", None)

    async def login(self, request: Request) -> Response:
        keys = self.b.keys
        if request.method == "GET":
            return self._page("login.html", request, error=None)
        form = await _form(request)
        if not keys.csrf_matches(form.get("csrf")):
            return _error(403, "missing or wrong CSRF token: use the workbench's page")
        if not keys.token_matches(form.get("token")):
            return self._page("login.html", request, status=403, error="令牌不对")
        response = RedirectResponse("/edit", status_code=303)
        response.set_cookie(SESSION_COOKIE, keys.session(), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    # -- API -------------------------------------------------------------------------
    async def api_triage(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        detail = "full" if request.query_params.get("detail") == "full" else "lean"
        try:
            decision = await run_in_threadpool(self.b.store.triage, data)
        except ComplaintError as exc:
            return _complaint_error(exc)
        except TriageError as exc:
            return _error(422, str(exc))
        return JSONResponse(decision.to_dict(detail))  # type: ignore[arg-type]

    async def api_explain(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        policy = self.b.store.policy
        try:
            decision = await run_in_threadpool(policy.triage, data)
        except ComplaintError as exc:
            return _complaint_error(exc)
        except TriageError as exc:
            return _error(422, str(exc))
        text = str(data.get("text", ""))
        return JSONResponse({
            "decision": decision.to_dict("full"),
            "report": format_explanation(decision, text, policy),
            "pieces": [{"text": p.text, "rules": list(p.rules)}
                       for p in pieces(text, spans_of(decision))]})

    async def api_guard(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        text = data.get("text")
        if not isinstance(text, str):
            return _error(400, "give text (a string)")
        findings = self.b.store.policy.guard(text)
        return JSONResponse({"findings": [f.to_dict() for f in findings]})

    async def api_check(self, request: Request) -> Response:
        data = await _json_body(request)
        if isinstance(data, JSONResponse):
            return data
        files = data.get("files", {})
        if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            return _error(400, "files must map file names to texts")
        try:
            result = await run_in_threadpool(self.b.workspace.check, files)
        except WorkspaceError as exc:
            return _error(400, str(exc))
        return JSONResponse(result.to_dict())

    async def api_publish(self, request: Request) -> Response:
        data = await self._write_body(request)
        if isinstance(data, Response):
            return data
        note = data.get("note", "")
        ok, text = await run_in_threadpool(self._publish, _author(data.get("author")),
                                           note[:200] if isinstance(note, str) else "")
        body = {"ok": ok, "message": text, "version": self.b.store.version}
        return JSONResponse(body, status_code=200 if ok else 409)

    async def api_draft(self, request: Request) -> Response:
        state = await run_in_threadpool(self.b.workspace.state)
        return JSONResponse({**state.to_dict(), "version": self._saved_version(),
                             "published": self.b.store.version})

    async def api_policy(self, request: Request) -> Response:
        policy = self.b.store.policy
        return JSONResponse({"name": policy.name, "version": policy.version,
                             "rules": policy.rule_count, "read_only": self.b.options.read_only,
                             "files": self.b.workspace.files()})

    async def api_versions(self, request: Request) -> Response:
        return JSONResponse([v.to_dict() for v in self.b.workspace.versions()])

    async def api_openapi(self, request: Request) -> Response:
        from .. import __version__  # noqa: PLC0415

        return JSONResponse(openapi_document(__version__))


def _form_record(form: Mapping[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """The complaint a Try form describes, or why it is not one."""
    text = form.get("text", "")
    if not text.strip():
        return None, "请贴入投诉内容"
    record: dict[str, Any] = {"id": form.get("id") or "try",
                              "channel": form.get("channel") or "phone", "text": text}
    if form.get("domain"):
        record["product"] = {"domain": form["domain"]}
    if form.get("received_at"):
        record["received_at"] = form["received_at"]
    rejections = form.get("prior_rejections", "").strip()
    if rejections:
        if not rejections.isdigit():
            return None, "之前被拒绝的次数应是一个整数"
        record["prior_rejections"] = int(rejections)
    return record, None


def _author(value: object) -> str:
    text = value.strip()[:60] if isinstance(value, str) else ""
    return text or "匿名"


def _complaint_error(exc: ComplaintError) -> JSONResponse:
    return _error(422, exc.message, issues=[{"field": i.field, "message": i.message}
                                            for i in exc.issues])

