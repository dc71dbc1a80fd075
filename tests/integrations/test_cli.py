"""The triage command: one output per input line, error records, exit codes, explain."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import triage
from triage.cli import main

from ..conftest import FIXTURES, ROOT

EXAMPLES = ROOT / "examples" / "complaints.jsonl"


def test_route_keeps_order_and_reports_bad_lines(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Bad lines yield error records with their line numbers; exit code 2; others decided."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b'{"id": "a", "channel": "phone", "text": "\xe6\xbc\x8f\xe6\xb0\xb4"}\n'
        b"\n"
        b"{broken\n"
        b"\xff\xfe\n"
        b'{"id": "e", "channel": "web", "text": "ok"}\n')
    code = main(["route", str(source), "--policy", str(FIXTURES / "minimal")])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2
    assert [o.get("complaint_id") or o["error"]["line"] for o in out] == ["a", 3, 4, "e"]
    assert out[2]["error"]["code"] == "invalid-encoding"


def test_route_strict_stops_at_the_first_bad_record(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--strict writes the error record and stops."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a"}\n{"id": "b", "channel": "phone", "text": "x"}\n',
                      encoding="utf-8")
    code = main(["route", str(source), "--strict", "--policy", str(FIXTURES / "minimal")])
    captured = capsys.readouterr()
    assert code == 2
    assert len(captured.out.splitlines()) == 1
    assert "line 1" in captured.err


def test_route_writes_to_out_file(tmp_path: Path) -> None:
    """--out receives the decisions; exit 0 when every record is valid."""
    out = tmp_path / "out.jsonl"
    assert main(["route", str(EXAMPLES), "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    inputs = [line for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(inputs)
    assert all(json.loads(line)["schema_version"] == triage.DECISION_SCHEMA_VERSION
               for line in lines)


def test_route_writes_lean_decisions_and_full_ones_with_explain(tmp_path: Path) -> None:
    """The default is the lean form; --explain gives the full one, with one worker or two;
    every line validates against the decision schema."""
    validator = Draft202012Validator(json.loads(triage.decision_json_schema()))
    outputs = {}
    for name, extra in [("lean", []), ("full", ["--explain"]),
                        ("full2", ["--explain", "--workers", "2"])]:
        out = tmp_path / f"{name}.jsonl"
        assert main(["route", str(EXAMPLES), "--out", str(out),
                     "--now", "2026-11-23T10:00:00+08:00", *extra]) == 0
        outputs[name] = out.read_text(encoding="utf-8")
    lean = [json.loads(line) for line in outputs["lean"].splitlines()]
    full = [json.loads(line) for line in outputs["full"].splitlines()]
    assert outputs["full"] == outputs["full2"]
    for small, big in zip(lean, full, strict=True):
        validator.validate(small)
        validator.validate(big)
        assert (small["detail"], big["detail"]) == ("lean", "full")
        assert "explanation" not in small and big["explanation"]
        assert small["rules"] == big["rules"] and small["category"] == big["category"]
        assert [d["due"] for d in small["deadlines"]] == [d["due"] for d in big["deadlines"]]
    assert len(outputs["lean"]) * 3 < len(outputs["full"])


def test_route_with_a_broken_policy_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A policy that does not load stops the run with its problems on stderr."""
    code = main(["route", str(EXAMPLES), "--policy", str(FIXTURES / "broken_many")])
    assert code == 1
    assert "broken_many/stages.yaml:14:9: error[unknown-key]" in capsys.readouterr().err


def test_route_missing_input_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input file is a clear one-line error."""
    assert main(["route", "/nonexistent.jsonl"]) == 1
    assert "input file not found" in capsys.readouterr().err


def test_explain_highlights_matched_words(capsys: pytest.CaptureFixture[str]) -> None:
    """explain marks the words the fired rules matched (态度差's rule lost on priority)."""
    code = main(["explain", "态度差，还漏水", "--policy", str(FIXTURES / "minimal"),
                 "--color", "never"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "投诉 cli：态度差，还【漏水】"
    assert "[category] cat.leak  minimal/policy.yaml:" in out
    assert "evidence: word '漏水' ($leak) at 5-7" in out


def test_explain_shows_where_a_positional_test_found_its_words(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A near test's evidence names both words, their offsets and the part of the text;
    a note test's names the note (it printed an empty "held:" before)."""
    code = main(["explain", "副驾驶的车窗升不上去了", "--color", "never"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("evidence: word '车窗' ($car_part) at 4-6 in the customer's words, a statement, "
            "near '不上去' at 7-10: “副驾驶的【车窗升不上去】了”") in out
    code = main(["explain", "手机开不了机。（检测结果：主板有进水痕迹）", "--color", "never"])
    out = capsys.readouterr().out
    assert "in an agent's note" in out and "evidence: held: \n" not in out


def test_explain_reads_a_json_record_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Without TEXT, explain reads one JSON record; --json prints the decision."""
    record = {"id": "S1", "channel": "email", "text": "冒烟", "prior_rejections": 3}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(record)))
    assert main(["explain", "--json", "--policy", str(FIXTURES / "minimal")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["complaint_id"], data["severity"], data["handling"]) == (
        "S1", "severe", "special")


def test_check_reports_errors_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """check --format json prints every problem as an object; exit 2."""
    assert main(["check", str(FIXTURES / "broken_many"), "--format", "json"]) == 2
    problems = json.loads(capsys.readouterr().out)
    assert len(problems) == 11
    assert problems[0]["file"] == "broken_many/policy.yaml"


@pytest.mark.parametrize(("argv", "code"), [
    (["diff", str(FIXTURES / "minimal"), str(FIXTURES / "broken_many")], 2),
    (["guard", "-", "--policy", str(FIXTURES / "broken_many")], 1),
])
def test_json_commands_report_policy_errors_as_json(
        argv: list[str], code: int, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """diff and guard with --format json print a policy's problems as JSON, as check does."""
    monkeypatch.setattr("sys.stdin", io.StringIO("您好"))
    assert main([*argv, "--format", "json"]) == code
    problems = json.loads(capsys.readouterr().out)
    assert len(problems) == 11
    assert {p["file"] for p in problems} == {"broken_many/policy.yaml", "broken_many/stages.yaml"}


def test_check_of_the_default_policy_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled policy has no errors and no warnings, even with --strict."""
    assert main(["check", "--strict"]) == 0
    assert "0 warning(s)" in capsys.readouterr().out


def test_a_missing_received_at_is_said_in_the_decision_and_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without received_at the decision names the time it used and where it came from;
    route warns once with the count; --now makes it a stand-in, not the clock."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "channel": "phone", "text": "漏水"}\n'
                      '{"id": "b", "channel": "phone", "text": "漏水"}\n'
                      '{"id": "c", "channel": "phone", "text": "漏水", '
                      '"received_at": "2026-11-23T09:00:00+08:00"}\n', encoding="utf-8")
    assert main(["route", str(source)]) == 0
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [o["received_at_source"] for o in out] == ["clock", "clock", "record"]
    assert [o["received_at_assumed"] for o in out] == [True, True, False]
    assert out[2]["received_at"] == "2026-11-23T09:00:00+08:00"
    assert captured.err.count("had no received_at") == 1 and "2 record(s)" in captured.err
    assert main(["route", str(source), "--now", "2026-11-23T10:00:00+08:00"]) == 0
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [o["received_at_source"] for o in out] == ["now", "now", "record"]
    assert out[0]["received_at"] == "2026-11-23T10:00:00+08:00"
    assert "had no received_at" not in captured.err


def test_the_readme_command_gives_the_same_output_on_every_run(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every README example carries its receipt time: two runs give the same bytes."""
    examples = [json.loads(line) for line in EXAMPLES.read_text("utf-8").splitlines()]
    assert all(e.get("received_at") for e in examples)
    main(["route", str(EXAMPLES)])
    first = capsys.readouterr().out
    main(["route", str(EXAMPLES)])
    assert capsys.readouterr().out == first
    assert '"received_at_source":"clock"' not in first


@pytest.mark.parametrize("stdin", [True, False])
def test_a_byte_order_mark_at_the_start_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        stdin: bool) -> None:
    """A UTF-8 BOM before record 1 (Windows editors write one) no longer loses it."""
    data = b'\xef\xbb\xbf{"id":"a","channel":"phone","text":"\xe6\xbc\x8f\xe6\xb0\xb4"}\n'
    if stdin:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        code = main(["route", "-"])
    else:
        (tmp_path / "bom.jsonl").write_bytes(data)
        code = main(["route", str(tmp_path / "bom.jsonl")])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and out[0]["complaint_id"] == "a"


def test_other_encodings_are_named_in_the_error_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A UTF-16 file, or GBK bytes that are not UTF-8, get an error record that says which
    encoding the line looks like."""
    source = tmp_path / "in.jsonl"
    gbk = '{"id":"b","channel":"phone","text":"投诉"}'.encode("gb18030")
    source.write_bytes('{"id":"a"}'.encode("utf-16") + b"\n" + gbk + b"\n")
    assert main(["route", str(source)]) == 2
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "UTF-16" in out[0]["error"]["message"]
    assert "GB18030" in out[-1]["error"]["message"]


@pytest.mark.parametrize("workers", ["0", "-2", "many"])
def test_workers_must_be_a_positive_number(workers: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`--workers 0` was accepted and routed nothing; now argparse refuses it (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(["route", str(EXAMPLES), "--workers", workers])
    assert info.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_route_with_history_links_repeats_and_records_each_case(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--history URL: each decision is recorded as it is made, so the second complaint of
    a customer on the same open topic is a repeat, linked to the first."""
    from triage.history import CaseStore  # noqa: PLC0415

    text = "热线客服乱扣了我二十块话费，麻烦查一下退给我"
    lines = [{"id": f"H{n}", "channel": "phone", "text": text, "customer": {"id": who},
              "received_at": f"2026-11-2{3 + n}T10:00:00+08:00"}
             for n, who in enumerate(("C1", "C2", "C1"))]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                      encoding="utf-8")
    store = tmp_path / "cases.db"
    assert main(["route", str(source), "--history", str(store)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ["repeat_complaint" in o["flags"] for o in out] == [False, False, True]
    assert out[2]["history"]["linked_case"] == "H0"
    with CaseStore(store) as cases:
        assert [c.case_id for c in cases.cases_between(
            triage.load_policy().triage(lines[0]).received_at,  # type: ignore[arg-type]
            triage.load_policy().triage(lines[2]).received_at.replace(hour=23),  # type: ignore[union-attr]
        )] == ["H0", "H1", "H2"]
    # a rerun decides again but the cases exist: said on stderr, decisions still written
    assert main(["route", str(source), "--history", str(store)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3 and "not recorded" in captured.err


def test_route_with_history_refuses_workers(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", str(EXAMPLES), "--history", str(tmp_path / "c.db"),
                 "--workers", "2"]) == 1
    assert "one process" in capsys.readouterr().err
