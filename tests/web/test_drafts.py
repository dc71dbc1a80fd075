"""Drafts: authors' saves stay out of the policy folder until a publish; a publish lays
the draft's own changes on the folder as it is then, refuses when both changed a file,
and every service watching the folder serves it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import need_web

need_web()

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from triage.integrations.store import PolicyStore  # noqa: E402
from triage.web.workspace import merge  # noqa: E402

from .conftest import COMPLAINT, Make, csrf_of, draft_of  # noqa: E402


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _save(client: TestClient, name: str, text: str) -> int:
    answer = client.post("/edit/save", json={"file": name, "text": text, "author": "李娜"},
                         headers={"X-CSRF-Token": csrf_of(client)})
    return answer.status_code


def _publish(client: TestClient) -> tuple[int, dict[str, object]]:
    answer = client.post("/v1/publish", json={"author": "王芳"},
                         headers={"X-CSRF-Token": csrf_of(client)})
    return answer.status_code, answer.json()


def test_a_watching_service_never_sees_a_save_and_serves_the_publish(
        client: TestClient, folder: Path) -> None:
    """A PolicyStore watching the folder keeps its version through a save and takes the
    published one after the publish."""
    with PolicyStore(folder, watch=0.05) as service:
        first = service.version
        text = (draft_of(folder) / "severity.yaml").read_text("utf-8")
        assert _save(client, "severity.yaml", text.replace("一般缺陷", "一般的缺陷")) == 200
        time.sleep(0.5)  # ten looks
        assert service.version == first
        status, body = _publish(client)
        assert status == 200, body
        deadline = time.monotonic() + 20
        while service.version == first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.version == body["version"] != first
        assert service.triage(COMPLAINT).policy_version == body["version"]


def test_try_decides_with_the_draft_or_the_published_version(client: TestClient,
                                                            folder: Path) -> None:
    """With unpublished changes, Try uses the draft unless told to use the published."""
    published = client.get("/v1/policy").json()["version"]
    _edit(draft_of(folder) / "severity.yaml", "一般缺陷", "一般的缺陷")
    draft = client.get("/v1/draft").json()
    assert draft["changed"] == [{"file": "severity.yaml", "change": "changed"}]
    assert draft["version"] != published
    form = {"csrf": csrf_of(client), "text": COMPLAINT["text"], "channel": "phone"}
    page = client.post("/try", data=form).text
    assert f'id="decision-version">{draft["version"]}<' in page and "草稿，" in page
    page = client.post("/try", data={**form, "use": "published"}).text
    assert f'id="decision-version">{published}<' in page


def test_a_draft_without_changes_follows_the_folder(client: TestClient,
                                                    folder: Path) -> None:
    """Someone changes the folder by hand: an untouched draft shows the new text."""
    _edit(folder / "severity.yaml", "一般缺陷", "一般的缺陷")
    assert "一般的缺陷" in client.get("/edit?file=severity.yaml").text
    assert client.get("/v1/draft").json()["changed"] == []


def test_a_publish_goes_on_top_of_changes_to_other_files(client: TestClient,
                                                         folder: Path) -> None:
    """The folder moved in another file since the draft began: the publish keeps both."""
    _edit(draft_of(folder) / "severity.yaml", "一般缺陷", "一般的缺陷")
    client.get("/edit")  # the draft exists and has a change
    smoke = folder / "cases" / "smoke.yaml"
    smoke.write_text(smoke.read_text("utf-8") + "# 别人加的一行\n", "utf-8")
    state = client.get("/v1/draft").json()
    assert state["published_moved"] == ["cases/smoke.yaml"] and state["conflicts"] == []
    assert "你的修改会加在新的版本上" in client.get("/publish").text
    status, body = _publish(client)
    assert status == 200, body
    assert "一般的缺陷" in (folder / "severity.yaml").read_text("utf-8")
    assert "别人加的一行" in smoke.read_text("utf-8")
    assert "别人加的一行" in (draft_of(folder) / "cases" / "smoke.yaml").read_text("utf-8")
    assert client.get("/v1/draft").json() == {"changed": [], "published_moved": [],
                                              "conflicts": [], "version": body["version"],
                                              "published": body["version"]}


def test_a_publish_that_clashes_is_refused_and_the_draft_can_be_discarded(
        client: TestClient, folder: Path) -> None:
    """Both the draft and the folder changed severity.yaml: 409 naming it, nothing
    written; discarding the draft makes it the folder again."""
    _edit(draft_of(folder) / "severity.yaml", "一般缺陷", "一般的缺陷")
    client.get("/edit")
    _edit(folder / "severity.yaml", "一般缺陷", "普通缺陷")
    assert client.get("/v1/draft").json()["conflicts"] == ["severity.yaml"]
    assert "draft-conflicts" in client.get("/edit?file=severity.yaml").text
    status, body = _publish(client)
    assert status == 409 and "severity.yaml" in str(body["message"])
    assert "普通缺陷" in (folder / "severity.yaml").read_text("utf-8")
    page = client.post("/discard", data={"csrf": csrf_of(client)})
    assert page.status_code == 200 and "草稿已放弃" in page.text
    assert "普通缺陷" in (draft_of(folder) / "severity.yaml").read_text("utf-8")
    assert client.get("/v1/draft").json()["changed"] == []


def test_discard_needs_the_csrf_token(client: TestClient) -> None:
    """Like every write."""
    assert client.post("/discard", data={}).status_code == 403


def test_a_read_only_workbench_has_no_draft(make_client: Make, folder: Path) -> None:
    """Read-only pages show the folder itself and write nothing."""
    client = make_client(read_only=True)
    assert "severity.yaml" in client.get("/edit").text
    assert client.get("/v1/draft").json()["changed"] == []
    assert not (folder / ".workbench").exists()


FILES = st.dictionaries(st.sampled_from(["a.yaml", "b.yaml", "c/d.yaml", "e.j2"]),
                        st.binary(max_size=3), max_size=4)


@given(FILES, FILES, FILES)
def test_merge_keeps_each_sides_changes_or_names_the_clash(
        base: dict[str, bytes], draft: dict[str, bytes], live: dict[str, bytes]) -> None:
    """Every file takes the draft's change if it made one, else the folder's; a file
    both changed differently is a clash."""
    merged, clash = merge(base, draft, live)
    for name in {*base, *draft, *live}:
        ours = draft.get(name) != base.get(name)
        theirs = live.get(name) != base.get(name)
        assert (name in clash) == (ours and theirs and draft.get(name) != live.get(name))
        if name not in clash:
            assert merged.get(name) == (draft.get(name) if ours else live.get(name))


@pytest.mark.parametrize("same", [True, False])
def test_merge_of_identical_sides_is_that_side(same: bool) -> None:
    """Both sides made the same change: no clash."""
    base = {"a.yaml": b"1"}
    side = {"a.yaml": b"2"}
    merged, clash = merge(base, side, side if same else {"a.yaml": b"3"})
    assert (clash == ()) is same and (merged == side or not same)


def test_impact_decides_the_corpus_it_is_given(make_client: Make, folder: Path,
                                               tmp_path: Path) -> None:
    """``triage serve --corpus FILE``: Impact compares on those complaints only."""
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(
        f'{{"id": "S{i}", "channel": "phone", "text": "热水器漏水{i}"}}\n' for i in range(3)),
        "utf-8")
    client = make_client(corpus=(sample,))
    _edit(draft_of(folder) / "severity.yaml", "set: {severity: general}",
          "set: {severity: severe}")
    page = client.get("/impact").text
    assert "样本 3 条投诉中" in page
