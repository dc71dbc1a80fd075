"""The main job under failure: a failing template costs one record, a killed run resumes.

`triage route` must give every other record its decision, in order, when one record's
reply template fails; `--out FILE` is replaced only when the run ends; `--resume`
continues a killed run and ends with the bytes a clean run writes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.cli import main
from triage.integrations.output import partial_path

from ..conftest import CORPUS_DIR, FIXTURES, scale

NOW = "2026-11-23T10:00:00+08:00"
BOMB = "{% if case_number == 'BOMB' %}{{ case_number|float / 0 }}{% endif %}\n"


def _policy_with(tmp_path: Path, template_tail: str, script: str = "ack_general") -> Path:
    """A copy of the replies fixture with ``template_tail`` appended to one template."""
    folder = tmp_path / "policy"
    shutil.copytree(FIXTURES / "replies", folder)
    path = folder / "scripts_cn" / f"{script}.j2"
    path.write_text(path.read_text(encoding="utf-8") + template_tail, encoding="utf-8")
    return folder


def _lines(*ids: str) -> str:
    return "".join(json.dumps({"id": i, "channel": "phone", "text": "服务太差"},
                              ensure_ascii=False) + "\n" for i in ids)


def test_a_failing_template_costs_only_its_record(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's reproduction: A1, BOMB, A3 give three lines; BOMB's is a render-error
    record with the template and line; the exit status says a record failed."""
    policy = _policy_with(tmp_path, BOMB)
    source = tmp_path / "in.jsonl"
    source.write_text(_lines("A1", "BOMB", "A3"), encoding="utf-8")
    code = main(["route", str(source), "--policy", str(policy), "--now", NOW])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2
    assert [o.get("complaint_id") for o in out] == ["A1", None, "A3"]
    error = out[1]["error"]
    assert (error["code"], error["line"], error["id"]) == ("render-error", 2, "BOMB")
    assert error["template"].endswith("ack_general.j2") and error["template_line"] == 9
    assert "ZeroDivisionError" in error["message"]


def test_strict_stops_at_a_failing_template(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """--strict writes the render-error record and stops there."""
    policy = _policy_with(tmp_path, BOMB)
    source = tmp_path / "in.jsonl"
    source.write_text(_lines("A1", "BOMB", "A3"), encoding="utf-8")
    code = main(["route", str(source), "--policy", str(policy), "--strict", "--now", NOW])
    captured = capsys.readouterr()
    assert code == 2 and len(captured.out.splitlines()) == 2
    assert "line 2" in captured.err


def test_policy_triage_raises_a_render_error_naming_the_template(tmp_path: Path) -> None:
    """The API raises RenderError (a TriageError) with template and line, the Python error
    kept as its cause."""
    policy = triage.load_policy(_policy_with(tmp_path, BOMB))
    assert policy.triage({"id": "A1", "channel": "phone", "text": "服务太差"}).reply
    with pytest.raises(triage.RenderError) as info:
        policy.triage({"id": "BOMB", "channel": "phone", "text": "服务太差"})
    assert isinstance(info.value, triage.TriageError)
    assert info.value.template.endswith("ack_general.j2") and info.value.line == 9
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_any_other_failure_is_a_decision_error() -> None:
    """A failure inside deciding that no field explains (here a broken deadline planner,
    injected) is a DecisionError; in a batch a decision-error record, the next record
    decided."""
    class Broken:
        def plan(self, *args: object) -> object:
            raise ValueError("broken planner")

    policy = triage.load_policy()
    object.__setattr__(policy, "_planner", Broken())  # fault injection past immutability
    with pytest.raises(triage.DecisionError, match="ValueError: broken planner") as info:
        policy.triage({"id": "a", "channel": "phone", "text": "漏水"})
    assert isinstance(info.value.__cause__, ValueError)
    results = list(policy.triage_many(_lines("a").splitlines()))
    assert isinstance(results[0], triage.RecordError)
    assert results[0].code == "decision-error" and results[0].complaint_id == "a"


def test_check_renders_every_template_with_the_cases_and_situations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template that loads (the sample contexts pass) but fails for repair requests is
    reported by `triage check` at its file and line, naming the complaint; exit 2."""
    policy = _policy_with(tmp_path, "{% if owner == '客服' and address != '您' %}"
                                    "{{ 1 / 0 }}{% endif %}\n")
    assert triage.load_policy(policy).script_ids  # it loads: the samples do not trip it
    code = main(["check", str(policy), "--format", "json"])
    found = json.loads(capsys.readouterr().out)
    runtime = [p for p in found if p["code"] == "template-runtime-error"]
    assert code == 2 and len(runtime) == 1
    assert runtime[0]["file"].endswith("ack_general.j2") and runtime[0]["line"] == 9
    assert "named" in runtime[0]["message"] and "ZeroDivisionError" in runtime[0]["message"]


def test_check_passes_the_bundled_templates(capsys: pytest.CaptureFixture[str]) -> None:
    """The default policy's 35 templates render for all its cases and situations."""
    assert main(["check"]) == 0
    assert "0 error(s)" in capsys.readouterr().out


@settings(max_examples=scale(10, 100), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bombs=st.lists(st.booleans(), min_size=1, max_size=8),
       error=st.sampled_from(["{{ 1 / 0 }}", "{{ deadlines[9].label }}",
                              "{{ case_number|int + 'x' }}", "{{ 'x' * 30000 }}"]),
       line=st.integers(0, 8))
def test_random_template_errors_cost_only_their_records(tmp_path: Path, bombs: list[bool],
                                                        error: str, line: int) -> None:
    """A runtime error at a random line of a template, triggered by random records: every
    record gets exactly one result, in order; exactly the triggering ones are
    render-error records, with the line the error is on."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example
    shutil.copytree(FIXTURES / "replies", folder, dirs_exist_ok=True)
    path = folder / "scripts_cn" / "ack_general.j2"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = min(line, len(lines) - 6) + 6  # after the front matter (lines 1-6)
    lines.insert(at, "{% if case_number[:4] == 'BOMB' %}" + error + "{% endif %}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = triage.load_policy(folder)
    ids = [f"BOMB{i}" if bomb else f"ok{i}" for i, bomb in enumerate(bombs)]
    results = list(policy.triage_many(_lines(*ids).splitlines(), now=None))
    assert len(results) == len(ids)
    for result, complaint_id, bomb in zip(results, ids, bombs, strict=True):
        if bomb:
            assert isinstance(result, triage.RecordError) and result.code == "render-error"
            assert (result.complaint_id, result.template_line) == (complaint_id, at + 1)
        else:
            assert isinstance(result, triage.Decision) and result.complaint_id == complaint_id


# --- --out and --resume --------------------------------------------------------------

def _big_input(path: Path, copies: int) -> Path:
    """The labelled corpus's complaints, ``copies`` times over with fresh ids, and a few
    blank and bad lines mixed in."""
    records = [json.loads(line)["complaint"]
               for line in (CORPUS_DIR / "corpus.jsonl").read_text("utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for copy in range(copies):
            for i, record in enumerate(records):
                out.write(json.dumps({**record, "id": f"K{copy}-{i}"}, ensure_ascii=False)
                          + "\n")
            out.write("\n{broken\n")
    return path


_ROUTE = [sys.executable, "-c", "from triage.cli import main; raise SystemExit(main())",
          "route"]


def _route(*args: str) -> subprocess.CompletedProcess[str]:
    """``triage route ARGS`` in a process of its own, to its end."""
    return subprocess.run([*_ROUTE, *args], capture_output=True, text=True, check=False)


def test_out_is_written_beside_and_renamed_when_the_run_ends(tmp_path: Path) -> None:
    """A run replaces an existing FILE only at its end; until then FILE keeps its bytes."""
    source = _big_input(tmp_path / "in.jsonl", 1)
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    assert main(["route", str(source), "--out", str(out), "--now", NOW]) == 2
    assert not partial_path(out).exists()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 369 and lines[-1].startswith('{"error"')


@pytest.mark.parametrize("workers", [1, 2])
def test_a_killed_run_resumes_to_the_same_bytes(tmp_path: Path, workers: int) -> None:
    """SIGKILL at random points, then --resume: FILE is untouched until the end, and the
    resumed file is byte for byte what a clean run writes (--now fixed)."""
    source = _big_input(tmp_path / "in.jsonl", scale(4, 12))
    clean = tmp_path / "clean.jsonl"
    first = _route(str(source), "--out", str(clean), "--now", NOW)
    assert first.returncode == 2, first.stderr
    size = clean.stat().st_size
    rng = random.Random(15)
    killed_with_partial = 0
    for attempt in range(scale(3, 12)):
        out = tmp_path / f"out{attempt}.jsonl"
        partial = partial_path(out)
        at = rng.uniform(0.05, 0.95) * size  # kill once this much output is written
        with subprocess.Popen([*_ROUTE, str(source), "--out", str(out), "--now", NOW,
                               "--workers", str(workers)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) as run:
            while run.poll() is None:
                if partial.exists() and partial.stat().st_size >= at:
                    run.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
        if run.returncode != -signal.SIGKILL:
            continue  # it finished first: nothing to resume
        assert not out.exists()  # a killed run never leaves a half-written FILE
        killed_with_partial += partial.stat().st_size > 0
        resumed = _route(str(source), "--out", str(out), "--now", NOW, "--resume",
                         "--workers", str(workers))
        assert resumed.returncode == 2, resumed.stderr
        assert out.read_bytes() == clean.read_bytes()
        assert not partial.exists()
    assert killed_with_partial >= 1  # at least one kill landed in the middle of the output


def test_resume_continues_after_a_line_cut_in_the_middle(tmp_path: Path) -> None:
    """A partial output whose last line was cut mid-object resumes from that line."""
    source = _big_input(tmp_path / "in.jsonl", 1)
    clean = tmp_path / "clean.jsonl"
    main(["route", str(source), "--out", str(clean), "--now", NOW])
    data = clean.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 40  # 40 bytes into a line
    out = tmp_path / "out.jsonl"
    partial_path(out).write_bytes(data[:cut])
    assert main(["route", str(source), "--out", str(out), "--now", NOW, "--resume"]) == 2
    assert out.read_bytes() == data


def test_resume_refuses_the_partial_output_of_another_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A partial output whose decisions are for other records is refused, not continued."""
    first = tmp_path / "a.jsonl"
    first.write_text(_lines("a1", "a2", "a3"), encoding="utf-8")
    other = tmp_path / "b.jsonl"
    other.write_text(_lines("b1", "b2", "b3"), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    main(["route", str(first), "--out", str(out), "--now", NOW])
    partial_path(out).write_bytes(out.read_bytes().split(b"\n", 1)[0] + b"\n")
    assert main(["route", str(other), "--out", str(out), "--now", NOW, "--resume"]) == 1
    assert "belongs to another input" in capsys.readouterr().err
    assert partial_path(out).exists()  # nothing was thrown away


@pytest.mark.parametrize("link", ["same", "hardlink", "symlink"])
def test_out_that_is_the_input_is_refused(tmp_path: Path, link: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """--out naming the input (itself, a hard link or a symbolic link) is refused and the
    input keeps every byte."""
    source = tmp_path / "same.jsonl"
    source.write_text(_lines("a", "b"), encoding="utf-8")
    before = source.read_bytes()
    target = source
    if link == "hardlink":
        target = tmp_path / "hard.jsonl"
        os.link(source, target)
    elif link == "symlink":
        target = tmp_path / "soft.jsonl"
        target.symlink_to(source)
    assert main(["route", str(source), "--out", str(target)]) == 1
    assert "is the input file itself" in capsys.readouterr().err
    assert source.read_bytes() == before


def test_an_output_folder_that_does_not_exist_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--out missing/out.jsonl` says it cannot write there (exit 1), not an internal error."""
    source = tmp_path / "in.jsonl"
    source.write_text(_lines("a"), encoding="utf-8")
    assert main(["route", str(source), "--out", str(tmp_path / "missing" / "out.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "internal error" not in err
