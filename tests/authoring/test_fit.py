"""``triage fit``: weights fitted from labelled complaints, and the patch that proposes them."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import triage
from triage.authoring.fit import FitError, fit_stage, stages_to_fit
from triage.authoring.labelled import Labelled, load_labelled, observe
from triage.authoring.patch import WeightChange, weight_patch
from triage.cli import main

from ..conftest import FIXTURES

SCORED = FIXTURES / "scored"
#: 漏水 and 客服 together are a service complaint here: the fixture's weights tie them and
#: the tie goes to product quality by priority, so a fit has something to learn.
LABELLED = ([("漏水，客服也不理", "service")] * 6 + [("漏水了", "product_quality")] * 6
            + [("客服态度差", "service")] * 4 + [("灯坏了", "product_quality")] * 4)


def _policy_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "scored"
    shutil.copytree(SCORED, folder)
    return folder


def _corpus(path: Path, rows: list[tuple[str, str]], extra: str = "") -> Path:
    lines = [json.dumps({"complaint": {"id": f"L{i}", "text": text, "channel": "phone"},
                         "expected": {"category": category}}, ensure_ascii=False)
             for i, (text, category) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def _observed(policy: triage.Policy, rows: list[tuple[str, str]]) -> list[object]:
    records = [Labelled({"id": f"L{i}", "text": t, "channel": "phone"}, {"category": c},
                        "mem", i + 1)
               for i, (t, c) in enumerate(rows)]
    observed, problems = observe(policy, records)
    assert not problems
    return observed  # type: ignore[return-value]


def test_the_fit_learns_what_the_labels_say_and_cross_validates_it() -> None:
    policy = triage.load_policy(SCORED)
    fit = fit_stage(policy, _observed(policy, LABELLED), "category",  # type: ignore[arg-type]
                    folds=4, l1=0.001)
    weights = {w.rule_id: w.after for w in fit.weights}
    assert fit.before == pytest.approx(14 / 20)
    assert fit.final == 1.0 and fit.after > fit.before
    assert weights["cat.staff"] > weights["cat.leak"]
    assert not fit.wrong
    # rules that never held keep their weight and are not offered for deletion
    assert "cat.after_repair" in fit.unseen and "cat.after_repair" not in fit.zeroed
    assert weights["cat.after_repair"] == 2.5


def test_a_rule_that_adds_nothing_gets_weight_zero() -> None:
    # 客服 on its own is service no more often than any other value: no evidence.
    rows = ([("漏水了", "product_quality")] * 8 + [("客服态度差", "service")] * 2
            + [("客服态度差", "other")] * 6)
    policy = triage.load_policy(SCORED)
    fit = fit_stage(policy, _observed(policy, rows), "category", l1=0.03)  # type: ignore[arg-type]
    assert "cat.staff" in fit.zeroed


def test_the_fit_is_deterministic_and_does_not_depend_on_record_order() -> None:
    policy = triage.load_policy(SCORED)
    observed = _observed(policy, LABELLED)
    shuffled = list(observed)
    random.Random(7).shuffle(shuffled)
    one = fit_stage(policy, observed, "category")  # type: ignore[arg-type]
    two = fit_stage(policy, observed, "category")  # type: ignore[arg-type]
    three = fit_stage(policy, shuffled, "category", l1=one.l1)  # type: ignore[arg-type]
    assert one == two
    assert [w.after for w in one.weights] == [w.after for w in three.weights]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["漏水", "客服", "坏了", "修过", "谢谢", "灯"]),
                          st.sampled_from(["漏水", "态度", "故障", "修完", ""]),
                          st.sampled_from(["product_quality", "service", "repair_quality",
                                           "other"])), min_size=1, max_size=30),
       st.sampled_from([0.03, 0.003, 0.0003]))
def test_fitted_weights_are_hundredths_at_zero_or_above(rows: list[tuple[str, str, str]],
                                                        l1: float) -> None:
    policy = SCORED_POLICY
    fit = fit_stage(policy, _observed(policy, [(a + b, c) for a, b, c in rows]),  # type: ignore[arg-type]
                    "category", l1=l1)
    for weight in fit.weights:
        assert weight.after >= 0 or weight.rule_id in fit.unseen
        assert round(weight.after * 100) == pytest.approx(weight.after * 100)
    assert 0 <= fit.before <= 1 and 0 <= fit.after <= 1 and 0 <= fit.final <= 1


SCORED_POLICY = triage.load_policy(SCORED)


def test_only_scored_stages_are_fitted() -> None:
    policy = triage.load_policy(SCORED)
    assert stages_to_fit(policy, []) == ["request_type", "category", "handling"]
    with pytest.raises(FitError, match="hit: score"):
        stages_to_fit(policy, ["severity"])
    with pytest.raises(FitError, match="no stage"):
        stages_to_fit(policy, ["colour"])
    with pytest.raises(FitError, match="no scored stage"):
        stages_to_fit(triage.load_policy(), [])


def test_the_patch_changes_only_weight_lines_and_gives_the_fitted_decisions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _policy_copy(tmp_path)
    corpus = _corpus(tmp_path / "labelled.jsonl", LABELLED)
    out = tmp_path / "weights.patch"
    code = main(["fit", "--policy", str(folder), str(corpus), "--stage", "category",
                 "--out", str(out), "--l1", "0.001", "--folds", "4"])
    report = capsys.readouterr().out
    assert code == 0
    assert "70.0% with the policy's weights" in report and "patch -p1" in report
    diff = out.read_text(encoding="utf-8")
    changed = [line for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed and all(line[1:].strip().startswith("weight:") for line in changed)
    before = (folder / "policy.yaml").read_text(encoding="utf-8")
    subprocess.run(["git", "apply", "-p1", "--directory", folder.name, "--unsafe-paths", "-"],
                   input=diff.replace(f"a/{folder.name}/", "a/").replace(
                       f"b/{folder.name}/", "b/"),
                   text=True, cwd=tmp_path, check=True)
    after = (folder / "policy.yaml").read_text(encoding="utf-8")
    assert after != before
    # comments and layout stay: removing the weight lines gives the file back
    assert [line for line in before.splitlines() if "weight:" not in line] == [
        line for line in after.splitlines() if "weight:" not in line]
    patched = triage.load_policy(folder)
    assert all(patched.triage({"id": "L", "text": text, "channel": "phone"}).category == category
               for text, category in LABELLED)


def test_a_flow_style_rule_is_listed_for_a_hand_edit(tmp_path: Path) -> None:
    folder = _policy_copy(tmp_path)
    text = (folder / "policy.yaml").read_text(encoding="utf-8")
    text = text.replace("""      - id: cat.inquiry
        when: {request_type: inquiry}
        weight: 0.75
        set: {category: other}""", """      - {id: cat.inquiry, when: {request_type: inquiry},
         weight: 0.75, set: {category: other}}""")
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    policy = triage.load_policy(folder)
    rules = {r.id: r for s in policy._model.stages.values() for r in s.rules}
    patch = weight_patch(policy, [
        WeightChange("cat.inquiry", rules["cat.inquiry"].file, rules["cat.inquiry"].line, "2"),
        WeightChange("cat.fault", rules["cat.fault"].file, rules["cat.fault"].line, "1.5")])
    assert [rule for rule, _ in patch.by_hand] == ["cat.inquiry"]
    assert "flow style" in patch.by_hand[0][1]
    assert "+        weight: 1.5" in patch.diff and "cat.inquiry" not in patch.diff


def test_a_bad_labelled_line_is_reported_and_the_rest_still_fitted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _corpus(tmp_path / "labelled.jsonl", LABELLED,
                     extra='{"complaint": "not a record"}\nnot json\n')
    code = main(["fit", "--policy", str(SCORED), str(corpus), "--stage", "category",
                 "--format", "json", "--l1", "0.001"])
    captured = capsys.readouterr()
    assert code == 2
    report = json.loads(captured.out)
    assert report["stages"][0]["records"] == len(LABELLED)
    assert [p["line"] for p in report["problems"]] == [21, 22]
    assert "labelled.jsonl:21" in captured.err


def test_a_first_stage_is_refused_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--policy", str(SCORED), str(SCORED), "--stage", "severity"]) == 1
    assert "add 'hit: score'" in capsys.readouterr().err


def test_case_files_and_policy_folders_are_labelled_records() -> None:
    records, problems = load_labelled([SCORED])
    assert not problems and len(records) >= 5
    assert records[0].source.endswith("scored.yaml") and records[0].line > 1
    assert records[0].group == {"domain": "none", "channel": "phone"}
