"""The JSON API under /v1/: triage, explain, guard, check, and its OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from .conftest import need_web

need_web()

from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from .conftest import COMPLAINT, Make  # noqa: E402


def test_triage_answers_a_lean_decision_and_the_full_one_on_request(client: TestClient) -> None:
    """/v1/triage decides with the serving policy; ?detail=full adds the explanation."""
    lean = client.post("/v1/triage", json=COMPLAINT)
    assert lean.status_code == 200
    body = lean.json()
    assert (body["category"], body["severity"], body["detail"]) == (
        "repair_quality", "severe", "lean")
    assert "explanation" not in body
    full = client.post("/v1/triage?detail=full", json=COMPLAINT).json()
    assert full["rules"]["category"] == ["category.repair_quality"]
    assert any(hit["evidence"] for hit in full["explanation"])
    assert full["policy_version"] == client.get("/v1/policy").json()["version"]


def test_triage_says_what_is_wrong_with_a_bad_record(client: TestClient) -> None:
    """A record without text is a 422 naming the field; a body that is not a JSON object
    is a 400."""
    bad = client.post("/v1/triage", json={"id": "x", "channel": "phone"})
    assert bad.status_code == 422
    assert any(issue["field"] == "text" for issue in bad.json()["issues"])
    assert client.post("/v1/triage", content=b"{not json").status_code == 400
    assert client.post("/v1/triage", json=[1, 2]).status_code == 400


def test_explain_cuts_the_text_at_the_matched_words(client: TestClient) -> None:
    """/v1/explain gives the full decision, the text report and the pieces of the text, the
    matched ones naming their rules; the pieces put together are the text."""
    body = client.post("/v1/explain", json=COMPLAINT).json()
    pieces = body["pieces"]
    assert "".join(p["text"] for p in pieces) == COMPLAINT["text"]
    marked = {p["text"]: p["rules"] for p in pieces if p["rules"]}
    assert "12315" in marked and "flags.media_threat" in marked["12315"]
    assert "category.repair_quality" in body["report"]
    assert body["decision"]["detail"] == "full"


def test_guard_finds_a_forbidden_phrase(client: TestClient) -> None:
    """/v1/guard reports each forbidden phrase of a draft with its offsets and suggestion."""
    found = client.post("/v1/guard", json={"text": "这个我不知道。"}).json()["findings"]
    assert [(f["matched"], f["start"]) for f in found] == [("不知道", 3)]
    assert found[0]["suggestion"]
    assert client.post("/v1/guard", json={"text": 3}).status_code == 400


def test_check_reports_an_unsaved_typo_at_its_line_and_column_with_the_hint(
        client: TestClient, folder: Path) -> None:
    """/v1/check lays the given text over the folder (nothing is written) and reports the
    problem at line and column, with the hint and the file as the editor names it."""
    before = (folder / "severity.yaml").read_text(encoding="utf-8")
    typo = before.replace("    rules:", "    rulez:", 1)
    body = client.post("/v1/check", json={"files": {"severity.yaml": typo}}).json()
    assert body["ok"] is False
    (problem,) = [p for p in body["problems"] if p["severity"] == "error"]
    assert (problem["path"], problem["line"], problem["column"], problem["code"]) == (
        "severity.yaml", 5, 5, "unknown-key")
    assert problem["hint"] == "did you mean 'rules'?"
    assert (folder / "severity.yaml").read_text(encoding="utf-8") == before
    clean = client.post("/v1/check", json={}).json()
    assert clean["ok"] is True and clean["rules"] > 50


def test_check_refuses_file_names_outside_the_folder(client: TestClient) -> None:
    """A file name with .. or of a type the editor does not open is a 400."""
    for name in ("../x.yaml", "/etc/passwd", "policy.py"):
        answer = client.post("/v1/check", json={"files": {name: "x"}})
        assert answer.status_code == 400, name
    assert client.post("/v1/check", json={"files": {"a.yaml": 1}}).status_code == 400


def test_the_openapi_document_lists_every_api_route(client: TestClient) -> None:
    """/v1/openapi.json is an OpenAPI 3.1 document with a path for each /v1/ route and the
    decision's JSON Schema among its schemas."""
    doc = client.get("/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    routes = {r.path for r in client.app.routes  # type: ignore[attr-defined]
              if isinstance(r, Route) and r.path.startswith("/v1/")}
    assert routes == set(doc["paths"])
    assert "properties" in doc["components"]["schemas"]["Decision"] or \
        "oneOf" in doc["components"]["schemas"]["Decision"]


def test_policy_and_versions_say_what_serves(make_client: Make) -> None:
    """/v1/policy names the serving version and the files; the version serving at start is
    kept as published version 1."""
    client = make_client()
    policy = client.get("/v1/policy").json()
    assert "severity.yaml" in policy["files"] and "cases/smoke.yaml" in policy["files"]
    assert any(f.startswith("scripts_cn/") for f in policy["files"])
    (first,) = client.get("/v1/versions").json()
    assert (first["number"], first["policy_version"]) == (1, policy["version"])
