"""The pages, as policy staff use them: try a complaint, edit and save a rule, run the
cases, see the impact, publish and revert."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import need_web

need_web()

from starlette.testclient import TestClient  # noqa: E402

from .conftest import COMPLAINT, Make, csrf_of, draft_of  # noqa: E402


def _try(client: TestClient, **fields: str) -> str:
    data = {"csrf": csrf_of(client), "channel": "phone", **fields}
    page = client.post("/try", data=data)
    assert page.status_code == 200
    return page.text


def test_try_marks_the_matched_words_and_links_each_rule_to_its_line(
        client: TestClient) -> None:
    """The Try page marks the words that fired rules, lists each rule with file:line linking
    to the editor at that line, the deadlines with their steps and the reply."""
    page = _try(client, text=str(COMPLAINT["text"]), domain="auto_dealer",
                received_at=str(COMPLAINT["received_at"]))
    marked = re.findall(r"<mark title=\"([^\"]*)\">([^<]*)</mark>", page)
    assert ("flags.media_threat" in dict((w, r) for r, w in marked)["12315"])
    assert re.search(r'href="/edit\?file=category.yaml&amp;line=\d+">rules/category.yaml:\d+<',
                     page)
    assert "首次联系客户" in page and "<ol><li>" in page  # the derivation's steps
    assert 'id="reply"' in page and "repair_quality" in page


def test_try_answers_in_traditional_and_flags_a_draft(client: TestClient) -> None:
    """A complaint in Traditional Chinese gets its reply in Traditional; a forbidden phrase
    in the agent's draft is marked with the suggestion."""
    page = _try(client, text="熱水器漏水，已經第二次了，請盡快處理", draft="这个我不知道。")
    reply = re.search(r'<pre class="reply" id="reply">([^<]*)</pre>', page)
    assert reply is not None and "問題" in reply.group(1) and "问题" not in reply.group(1)
    assert "zh-Hant" in page
    assert '<mark class="bad">不知道</mark>' in page


def test_try_says_what_is_wrong_with_the_form(client: TestClient) -> None:
    """An empty complaint or an unknown domain gives a message, not a decision."""
    assert "请贴入投诉内容" in _try(client, text="  ")
    assert "product.domain" in _try(client, text="漏水", domain="no_such")
    assert "整数" in _try(client, text="漏水", prior_rejections="two")


def test_a_save_is_written_only_when_the_policy_loads_and_keeps_the_old_text(
        client: TestClient, folder: Path) -> None:
    """A typo is refused with the problem at its line (the file unchanged); a good text is
    written to the draft (the published folder unchanged), and the text it replaced is
    kept with who saved."""
    csrf = {"X-CSRF-Token": csrf_of(client)}
    path = draft_of(folder) / "severity.yaml"
    before = path.read_text(encoding="utf-8")
    bad = client.post("/edit/save", headers=csrf, json={
        "file": "severity.yaml", "text": before.replace("    rules:", "    rulez:", 1)})
    assert bad.status_code == 422 and bad.json()["saved"] is False
    assert bad.json()["problems"][0]["line"] == 5
    assert path.read_text(encoding="utf-8") == before
    good = before.replace("一般缺陷", "一般的缺陷")
    saved = client.post("/edit/save", headers=csrf, json={
        "file": "severity.yaml", "text": good, "author": "李娜"})
    assert saved.status_code == 200 and saved.json()["saved"] is True
    assert path.read_text(encoding="utf-8") == good
    assert (folder / "severity.yaml").read_text(encoding="utf-8") == before
    (kept,) = (folder / ".workbench" / "saves").iterdir()
    assert (kept / "text").read_text(encoding="utf-8") == before
    assert "李娜" in (kept / "meta.json").read_text(encoding="utf-8")
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".severity")]
    assert "被 李娜 的保存替换" in client.get("/edit?file=severity.yaml").text


def test_the_editor_page_numbers_lines_and_lists_the_files(client: TestClient) -> None:
    """The editor shows the file in a text area with a gutter and links every file."""
    page = client.get("/edit?file=cases/smoke.yaml&line=3").text
    assert 'id="gutter"' in page and 'data-line="3"' in page
    assert 'href="/edit?file=scripts_cn/closing.j2"' in page
    assert client.get("/edit?file=nope.yaml").status_code == 404


def test_test_page_shows_a_failing_case_with_expected_and_decided(
        client: TestClient, folder: Path) -> None:
    """The Test page runs the draft's cases: all pass on the default; a wrong
    expectation shows the field, expected and decided, and the rules that fired."""
    assert re.search(r'id="summary">(\d+)/\1 ', client.get("/test").text)
    smoke = draft_of(folder) / "cases" / "smoke.yaml"
    smoke.write_text(smoke.read_text("utf-8").replace("category: repair_quality",
                                                      "category: service", 1), "utf-8")
    page = client.get("/test").text
    assert "1 个失败" in page
    assert "<td>category</td><td><code>service</code></td><td><code>repair_quality</code>" in page
    assert "category.repair_quality" in page


def test_impact_groups_the_changed_decisions_by_output(client: TestClient,
                                                       folder: Path) -> None:
    """Impact compares the serving policy with the draft on the sample corpus and
    groups the changes by output field."""
    assert "0 条的判定会变" in client.get("/impact").text
    path = draft_of(folder) / "severity.yaml"
    path.write_text(path.read_text("utf-8").replace("set: {severity: general}",
                                                    "set: {severity: severe}", 1), "utf-8")
    page = client.get("/impact").text
    assert re.search(r"中 [1-9]\d* 条的判定会变", page)
    assert "<h3>severity：" in page and "general → severe" in page
    assert "changed <code>severity.general.defect</code>" in page


def test_publish_serves_the_saved_policy_and_revert_goes_back(client: TestClient,
                                                              folder: Path) -> None:
    """Publishing reloads the store: the next triage records the new version; the versions
    list who published; a revert puts the first version back and serves it."""
    csrf = csrf_of(client)
    first = client.post("/v1/triage", json=COMPLAINT).json()["policy_version"]
    path = draft_of(folder) / "severity.yaml"
    assert "没有要发布的修改" in client.get("/publish").text
    path.write_text(path.read_text("utf-8").replace("一般缺陷", "一般的缺陷"), "utf-8")
    page = client.get("/publish").text  # saved, not yet published
    assert 'href="/impact"' in page and "<code>severity.yaml</code>：修改" in page
    assert client.post("/v1/triage", json=COMPLAINT).json()["policy_version"] == first
    page = client.post("/publish", data={"csrf": csrf, "author": "王芳", "note": "措辞"})
    assert page.status_code == 200 and "已发布第 2 版" in page.text
    assert "一般的缺陷" in (folder / "severity.yaml").read_text("utf-8")
    second = client.post("/v1/triage", json=COMPLAINT).json()["policy_version"]
    assert second != first
    versions = client.get("/v1/versions").json()
    assert [(v["number"], v["author"]) for v in versions] == [(2, "王芳"), (1, "triage serve")]
    back = client.post("/revert", data={"csrf": csrf, "number": "1"})
    assert back.status_code == 200 and "已发布第 3 版" in back.text
    assert client.post("/v1/triage", json=COMPLAINT).json()["policy_version"] == first
    assert "一般缺陷" in path.read_text("utf-8")
    assert "一般缺陷" in (folder / "severity.yaml").read_text("utf-8")


def test_publish_is_refused_when_a_case_fails_and_the_old_version_serves(
        client: TestClient, folder: Path) -> None:
    """A saved change that breaks a case is not published (409, the failures listed); the
    version serving stays."""
    serving = client.get("/v1/policy").json()["version"]
    path = draft_of(folder) / "severity.yaml"
    before = (folder / "severity.yaml").read_text("utf-8")
    path.write_text(path.read_text("utf-8").replace("set: {severity: general}",
                                                    "set: {severity: severe}", 1), "utf-8")
    answer = client.post("/v1/publish", json={"author": "x"},
                         headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 409 and answer.json()["version"] == serving
    assert "severity" in answer.json()["message"]
    assert client.get("/v1/policy").json()["version"] == serving
    assert (folder / "severity.yaml").read_text("utf-8") == before  # nothing written


def test_read_only_pages_have_no_write_controls(make_client: Make) -> None:
    """A read-only workbench shows no save, publish or revert button."""
    client = make_client(read_only=True)
    assert 'id="publish"' not in client.get("/publish").text
    assert "只读" in client.get("/try").text
