"""The workbench's guards, each tried: binding, token, CSRF, read-only, paths, links,
body size, host, escaping, and the CLI's refusals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .conftest import need_web

need_web()

from jinja2.sandbox import SandboxedEnvironment  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from triage.cli import main  # noqa: E402
from triage.errors import TriageError  # noqa: E402
from triage.web import ServeOptions, check_bind  # noqa: E402
from triage.web.options import is_loopback  # noqa: E402

from .conftest import COMPLAINT, LOOPBACK, Make, csrf_of  # noqa: E402

TOKEN = "s3cret-token-for-tests"


def _save(client: TestClient, folder: Path, name: str = "severity.yaml", *,
          headers: dict[str, str] | None = None, text: str | None = None) -> Any:
    body = text if text is not None else (folder / "severity.yaml").read_text("utf-8") + "\n#\n"
    return client.post("/edit/save", json={"file": name, "text": body}, headers=headers or {})


def test_any_host_but_loopback_needs_a_token() -> None:
    """127.0.0.1, ::1 and localhost serve without a token; 0.0.0.0 or a LAN address do not,
    and a token shorter than 8 characters is refused."""
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "example.com"))
    check_bind(ServeOptions())
    with pytest.raises(TriageError, match="needs a token"):
        check_bind(ServeOptions(host="0.0.0.0"))
    check_bind(ServeOptions(host="0.0.0.0", token=TOKEN))
    with pytest.raises(TriageError, match="too short"):
        check_bind(ServeOptions(host="0.0.0.0", token="abc"))


def test_serve_refuses_an_open_binding_and_takes_the_token_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        folder: Path) -> None:
    """``triage serve --host 0.0.0.0`` exits 2 saying to give a token; with
    TRIAGE_SERVE_TOKEN set it serves (uvicorn.run stands in), writes needing the token."""
    import uvicorn  # noqa: PLC0415

    assert main(["serve", str(folder), "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setenv("TRIAGE_SERVE_TOKEN", TOKEN)
    assert main(["serve", str(folder), "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert (served["host"], served["port"]) == ("0.0.0.0", 8123)
    client = TestClient(served["app"], base_url="http://192.168.1.5:8123")
    assert _save(client, folder, headers={"X-CSRF-Token": csrf_of(client)}).status_code == 403
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _save(client, folder, headers=auth).status_code == 200


def test_serve_needs_a_folder_it_can_write(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Where no policy folder is found (the bundled policy would be used), ``triage serve``
    exits 2 asking for the folder, instead of editing the installed package."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGE_POLICY", raising=False)
    assert main(["serve"]) == 2
    assert "give the policy folder" in capsys.readouterr().err


def test_writes_need_the_csrf_token_of_the_page(client: TestClient, folder: Path) -> None:
    """On loopback without a token a save needs the page's CSRF token: none or a wrong one
    is a 403 and nothing is written."""
    before = (folder / "severity.yaml").read_text("utf-8")
    assert _save(client, folder).status_code == 403
    assert _save(client, folder, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert (folder / "severity.yaml").read_text("utf-8") == before
    assert _save(client, folder, headers={"X-CSRF-Token": csrf_of(client)}).status_code == 200


def test_with_a_token_every_write_needs_it(make_client: Make, folder: Path) -> None:
    """With a token: the CSRF token alone, or a wrong bearer token, is refused; the right
    bearer token, or the login cookie with the CSRF token, may write; a wrong login is 403."""
    client = make_client(token=TOKEN)
    csrf = csrf_of(client)
    assert _save(client, folder, headers={"X-CSRF-Token": csrf}).status_code == 403
    assert _save(client, folder, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.post("/v1/publish", json={}).status_code == 403
    assert _save(client, folder, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.post("/login", data={"csrf": csrf, "token": "nope"}).status_code == 403
    assert client.post("/login", data={"token": TOKEN}).status_code == 403  # no CSRF
    logged = client.post("/login", data={"csrf": csrf, "token": TOKEN}, follow_redirects=False)
    assert logged.status_code == 303 and "httponly" in logged.headers["set-cookie"].lower()
    assert "samesite=strict" in logged.headers["set-cookie"].lower()
    assert _save(client, folder, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert _save(client, folder).status_code == 403  # the cookie alone: a cross-site form


def test_forms_are_csrf_safe(client: TestClient) -> None:
    """The Try, Publish, Revert and Login forms refuse a post without the page's token (what
    another site's form would send)."""
    for path, data in (("/try", {"text": "漏水"}), ("/publish", {"author": "x"}),
                       ("/revert", {"number": "1"}), ("/login", {"token": "x"})):
        assert client.post(path, data=data).status_code == 403, path


def test_read_only_refuses_every_write(make_client: Make, folder: Path) -> None:
    """--read-only: save, publish and revert are 403 even with the CSRF token; the editor
    has no save button; nothing is written, not even the first version's copy."""
    client = make_client(read_only=True)
    csrf = csrf_of(client)
    assert _save(client, folder, headers={"X-CSRF-Token": csrf}).status_code == 403
    assert client.post("/v1/publish", json={}, headers={"X-CSRF-Token": csrf}).status_code == 403
    assert client.post("/publish", data={"csrf": csrf}).status_code == 403
    assert client.post("/revert", data={"csrf": csrf, "number": "1"}).status_code == 403
    assert 'id="save"' not in client.get("/edit?file=severity.yaml").text
    assert not (folder / ".workbench").exists()
    assert client.post("/v1/triage", json=COMPLAINT).status_code == 200


@pytest.mark.parametrize("name", ["../outside.yaml", "/tmp/outside.yaml", "cases/../../o.yaml",
                                  "..\\outside.yaml", ".workbench/x.yaml", "policy.py",
                                  "cases/./smoke.yaml", "cases//smoke.yaml", "a\x00.yaml",
                                  "C:/x.yaml"])
def test_saves_stay_inside_the_policy_folder(client: TestClient, folder: Path,
                                             name: str) -> None:
    """A path that leads out, is hidden, or is not a policy or template file is a 400."""
    answer = _save(client, folder, name, headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 400
    assert not (folder.parent / "outside.yaml").exists()
    assert not (folder.parent / "o.yaml").exists()


def test_links_out_of_the_folder_are_not_followed(make_client: Make, folder: Path,
                                                  tmp_path: Path) -> None:
    """A file or folder inside that links outside is neither saved through nor read, and
    the draft does not copy it."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "target.yaml").write_text("cases: []\n", encoding="utf-8")
    os.symlink(outside / "target.yaml", folder / "cases" / "linked.yaml")
    os.symlink(outside, folder / "linked_dir")
    client = make_client()
    headers = {"X-CSRF-Token": csrf_of(client)}
    for name in ("cases/linked.yaml", "linked_dir/target.yaml"):
        assert _save(client, folder, name, headers=headers, text="x: 1\n").status_code == 400
        assert client.get(f"/edit?file={name}").status_code == 404
    assert (outside / "target.yaml").read_text(encoding="utf-8") == "cases: []\n"
    assert "cases/linked.yaml" not in client.get("/v1/policy").json()["files"]
    assert not (folder / ".workbench" / "draft" / "rules" / "linked_dir").exists()


def test_reply_templates_stay_sandboxed(client: TestClient, folder: Path) -> None:
    """A reply template that reaches for Python internals is refused at save, at its line,
    and the template on disk is unchanged."""
    path = folder / "scripts_cn" / "closing.j2"
    before = path.read_text(encoding="utf-8")
    answer = _save(client, folder, "scripts_cn/closing.j2", headers={
        "X-CSRF-Token": csrf_of(client)},
        text=before + "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    assert answer.status_code == 422
    (problem,) = [p for p in answer.json()["problems"] if p["severity"] == "error"]
    assert problem["path"] == "scripts_cn/closing.j2" and problem["line"] > 1
    assert path.read_text(encoding="utf-8") == before


def test_request_bodies_are_size_limited(make_client: Make) -> None:
    """A body over the limit is a 413, whether it says its length or is sent in chunks."""
    client = make_client(max_body=10_000)
    assert client.post("/v1/triage", content=b"x" * 10_001).status_code == 413

    def chunks() -> Any:
        for _ in range(20):
            yield b"y" * 1_000

    assert client.post("/v1/check", content=chunks()).status_code == 413
    assert client.post("/v1/guard", json={"text": "好"}).status_code == 200


def test_a_loopback_workbench_answers_only_to_this_machine(make_client: Make) -> None:
    """On loopback a request naming another host (DNS rebinding) is a 421."""
    client = make_client()
    assert client.get("/try", headers={"host": "evil.example:8080"}).status_code == 421
    assert TestClient(client.app, base_url="http://localhost:8080").get("/try").status_code \
        == 200


def test_complaint_text_is_escaped_and_pages_carry_a_strict_policy(client: TestClient) -> None:
    """Text a customer wrote is data: markup in it is escaped in the Try page; every
    response forbids framing and scripts from elsewhere; the pages' Jinja is sandboxed
    and autoescapes."""
    csrf = csrf_of(client)
    page = client.post("/try", data={"csrf": csrf, "text": '<script>alert(1)</script>漏水"',
                                     "draft": "<img src=x onerror=alert(2)>"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    (route,) = [r for r in client.app.routes  # type: ignore[attr-defined]
                if getattr(r, "path", "") == "/try"]
    pages = route.endpoint.__self__.b.pages
    assert isinstance(pages, SandboxedEnvironment) and pages.autoescape is True

def test_loopback_default_binding(make_client: Make) -> None:
    """The default options bind 127.0.0.1:8080, read-write, no token."""
    options = ServeOptions()
    assert (options.host, options.port, options.token, options.read_only) == (
        "127.0.0.1", 8080, None, False)
    assert LOOPBACK.startswith("http://127.0.0.1")


def test_a_draft_folder_replaced_by_a_link_is_not_written_through(
        make_client: Make, folder: Path, tmp_path: Path) -> None:
    """Someone swaps .workbench/draft/rules for a link out of the folder: a save is a 400
    and nothing is written at the link's target."""
    import shutil  # noqa: PLC0415

    client = make_client()
    headers = {"X-CSRF-Token": csrf_of(client)}
    draft = folder / ".workbench" / "draft" / folder.name
    outside = tmp_path / "elsewhere-draft"
    outside.mkdir()
    shutil.rmtree(draft)
    os.symlink(outside, draft)
    answer = _save(client, folder, headers=headers)
    assert answer.status_code == 400 and "link" in answer.json()["error"]
    page = client.get("/edit")
    assert page.status_code == 400 and "link" in page.json()["error"]
    assert list(outside.iterdir()) == []
