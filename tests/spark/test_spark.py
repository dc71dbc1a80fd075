"""triage.spark on a real local Spark: the same decisions as ``Policy.triage``, bad rows in
their rows, column and policy problems before any task, one policy version per job."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage.authoring.diff import diff_policies
from triage.spark import decision_columns, diff_dataframe, triage_dataframe
from triage.spark.columns import plan_columns
from triage.spark.frames import _decide_batches
from triage.spark.schema import spark_type
from triage.spark.shipping import ship

from ..conftest import CORPUS_DIR, FIXTURES
from ..engine.test_engine import complaints

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))
#: Every complaint field, as an intake table would hold it (received_at as ISO text).
INPUT_DDL = (
    "id string, text string, channel string, request_type string, received_at string, "
    "customer struct<id:string,name:string,title:string,tier:string,locale:string>, "
    "product struct<domain:string,line:string,model:string,purchase_date:string,lot:string>, "
    "prior_rejections long, demands array<string>, attributes string")
SUBS = {"customer": ("id", "name", "title", "tier", "locale"),
        "product": ("domain", "line", "model", "purchase_date", "lot")}


def row_of(record: dict[str, Any]) -> dict[str, Any]:
    """A complaint record as a row of ``INPUT_DDL``."""
    row: dict[str, Any] = {k: record.get(k) for k in
                           ("id", "text", "channel", "request_type", "received_at",
                            "prior_rejections", "demands")}
    for name, subs in SUBS.items():
        given = record.get(name)
        row[name] = None if given is None else {s: given.get(s) for s in subs}
    row["attributes"] = (json.dumps(record["attributes"], ensure_ascii=False)
                         if "attributes" in record else None)
    return row


def _stamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def expected(decision: triage.Decision) -> dict[str, Any]:
    """The columns ``triage_dataframe`` should give for ``decision`` (times as epochs)."""
    data = decision.to_dict("lean")
    for name in ("schema_version", "detail", "received_at_assumed"):
        del data[name]
    for deadline in data["deadlines"]:
        deadline["due"] = datetime.fromisoformat(deadline["due"]).timestamp()
    data["received_at"] = _stamp(decision.received_at)
    data["error"] = None
    return data


def actual(row: Any) -> dict[str, Any]:
    """A row of ``triage_dataframe``'s output in the form of ``expected``."""
    data = row.asDict(recursive=True)
    for name in list(data):
        if name not in {n for n, _ in decision_columns("lean")}:
            del data[name]
    for deadline in data["deadlines"] or []:
        deadline["due"] = _stamp(deadline["due"])
    data["received_at"] = _stamp(data["received_at"])
    return data


def corpus_records() -> list[dict[str, Any]]:
    return [json.loads(line)["complaint"] for path in sorted(CORPUS_DIR.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def default_policy() -> triage.Policy:
    return triage.load_policy()


def test_the_corpus_is_decided_as_policy_triage_decides_it(
        spark: Any, default_policy: triage.Policy) -> None:
    """Every corpus complaint gets, column for column, the decision of ``Policy.triage``."""
    records = corpus_records()
    df = spark.createDataFrame([row_of(r) for r in records], INPUT_DDL).repartition(2)
    rows = {r["id"]: r for r in triage_dataframe(df, now=NOW).collect()}
    assert len(rows) == len(records)
    for record in records:
        assert actual(rows[record["id"]]) == expected(default_policy.triage(record, now=NOW)), (
            record["id"])


def test_the_full_form_adds_the_explanation_and_scores_as_json(
        spark: Any, default_policy: triage.Policy) -> None:
    """``detail="full"`` adds the explanation and scores of ``to_dict("full")`` as JSON."""
    records = corpus_records()[:60]
    df = spark.createDataFrame([row_of(r) for r in records], INPUT_DDL)
    out = triage_dataframe(df, detail="full", now=NOW)
    assert out.columns == ["id", *(n for n, _ in decision_columns("full"))]
    for row in out.collect():
        record = next(r for r in records if r["id"] == row["id"])
        full = default_policy.triage(record, now=NOW).to_dict("full")
        assert json.loads(row["explanation"]) == full["explanation"]
        assert (json.loads(row["scores"]) if row["scores"] else None) == full.get("scores")


def _row_of_complaint(number: int, complaint: triage.Complaint) -> dict[str, Any]:
    """A generated complaint as a row with typed columns (timestamp, date, arrays)."""
    data = complaint.model_dump(mode="python", exclude_none=True)
    row: dict[str, Any] = {
        "key": number, "id": f"g{number}", "text": complaint.text,
        "channel": complaint.channel.value,
        "request_type": complaint.request_type.value if complaint.request_type else None,
        "received_at": complaint.received_at, "prior_rejections": complaint.prior_rejections,
        "demands": [d.value for d in complaint.demands],
        "attributes": json.dumps(complaint.attributes, ensure_ascii=False)}
    for name, subs in SUBS.items():
        given = data.get(name)
        row[name] = None if given is None else {s: given.get(s) for s in subs}
    return row


TYPED_DDL = (
    "key long, id string, text string, channel string, request_type string, "
    "received_at timestamp, "
    "customer struct<id:string,name:string,title:string,tier:string,locale:string>, "
    "product struct<domain:string,line:string,model:string,purchase_date:date,lot:string>, "
    "prior_rejections int, demands array<string>, attributes string")


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_records_are_decided_as_policy_triage_decides_them(
        spark: Any, default_policy: triage.Policy, data: st.DataObject) -> None:
    """Generated records in typed columns (timestamps, dates, arrays, JSON attributes)
    get the decisions ``Policy.triage`` gives the same records."""
    generated = data.draw(st.lists(complaints(default_policy), min_size=1, max_size=40))
    rows = [_row_of_complaint(i, c) for i, c in enumerate(generated)]
    df = spark.createDataFrame(rows, TYPED_DDL)
    out = {r["key"]: r for r in triage_dataframe(df, now=NOW, keys=["key"]).collect()}
    for i, complaint in enumerate(generated):
        record = complaint.model_copy(update={"id": f"g{i}"})
        try:
            want = expected(default_policy.triage(record, now=NOW))
        except triage.TriageError as exc:  # e.g. a domain this policy does not have
            assert out[i]["error"] is not None and out[i]["request_type"] is None, exc
            continue
        assert actual(out[i]) == want


BAD_ROWS = [
    {"id": "ok", "text": "热水器漏水，第二次了", "channel": "phone"},
    {"id": "no-text", "text": None, "channel": "phone"},
    {"id": "pigeon", "text": "投诉", "channel": "pigeon"},
    {"id": "json", "text": "投诉", "channel": "web", "attributes": "{not json"},
    {"id": "negative", "text": "投诉", "channel": "web", "prior_rejections": -1},
    {"id": "domain", "text": "投诉", "channel": "web", "product": {"domain": "space"}},
    {"id": None, "text": "投诉", "channel": "web"},
]


def test_bad_rows_get_an_error_struct_in_their_row_and_the_others_are_decided(
        spark: Any) -> None:
    """Each bad row has null decision columns and an error naming the field; the job
    does not fail and the good row is decided."""
    rows = []
    for record in BAD_ROWS:
        row = row_of({k: v for k, v in record.items() if k != "attributes"})
        row["attributes"] = record.get("attributes")
        rows.append(row)
    df = spark.createDataFrame(rows, INPUT_DDL)
    out = triage_dataframe(df, now=NOW).collect()
    errors = {r["id"]: r["error"] for r in out}
    assert errors["ok"] is None
    assert {k: (e["code"], [(i["field"], i["message"]) for i in e["issues"]])
            for k, e in errors.items() if k != "ok"} == {
        "no-text": ("invalid-record", [("text", "required field is missing")]),
        "pigeon": ("invalid-record", [("channel", "'pigeon' is not allowed; expected 'phone', "
                                      "'visit', 'letter', 'email', 'fax', 'web', "
                                      "'factory_system', 'onsite_verbal', 'callback', "
                                      "'key_account_visit' or 'other'")]),
        "json": ("invalid-record", [("attributes", "column 'attributes' is not valid JSON: "
                                    "Expecting property name enclosed in double quotes: "
                                    "line 1 column 2 (char 1)")]),
        "negative": ("invalid-record", [("prior_rejections",
                                         "Input should be greater than or equal to 0")]),
        "domain": ("invalid-record", [("product.domain", errors["domain"]["issues"][0][
            "message"])]),
        None: ("invalid-record", [("id", "required field is missing")]),
    }
    assert "'space' is not a domain of this policy" in errors["domain"]["message"]
    bad = [r for r in out if r["id"] != "ok"]
    assert all(r["request_type"] is None and r["policy_version"] for r in bad)
    assert [r["complaint_id"] for r in bad if r["id"] in ("pigeon", "domain")] == [
        "pigeon", "domain"]


def test_missing_and_mistyped_columns_are_listed_before_any_task(spark: Any) -> None:
    """One ColumnError names every missing, mistyped and unknown column; no job runs."""
    df = spark.createDataFrame(
        [], "id long, body string, channel int, prior_rejections string, "
            "customer struct<tier:string,vip:boolean>, product_domain int")
    spark.sparkContext.setJobGroup("columns", "the column check runs no job")
    with pytest.raises(triage.ColumnError) as caught:
        triage_dataframe(df, columns={"txet": "x"})
    assert str(caught.value) == (
        "the columns cannot be read as complaints (6 problems):\n"
        "  columns['txet']: not a complaint field; did you mean 'text'?\n"
        "  text: required column 'text' is missing (the DataFrame has: id, body, channel, "
        "prior_rejections, customer, product_domain); (or map one: columns={'text': "
        "'COLUMN'})\n"
        "  channel: column 'channel' is int; expected a string\n"
        "  prior_rejections: column 'prior_rejections' is string; expected an integer "
        "(tinyint, smallint, int or bigint)\n"
        "  customer.vip: struct column 'customer' has a field customer records do not have; "
        "fields: id, name, title, tier, locale\n"
        "  product.domain: column 'product_domain' is int; expected a string")
    assert spark.sparkContext.statusTracker().getJobIdsForGroup("columns") == []


def test_columns_are_mapped_by_name_flat_or_as_structs(spark: Any,
                                                       default_policy: triage.Policy) -> None:
    """``columns=`` renames fields; ``product_domain``-style flat columns fill the
    sub-record; keys pass through with their types."""
    df = spark.createDataFrame(
        [(7, "A1", "热水器漏水，第二次了", "phone", "electronics", "vip")],
        "row long, case_no string, body string, channel string, product_domain string, "
        "customer_tier string")
    out = triage_dataframe(df, columns={"id": "case_no", "text": "body"}, keys=["row"],
                           now=NOW)
    assert out.schema["row"].dataType.simpleString() == "bigint"
    [row] = out.collect()
    want = default_policy.triage({"id": "A1", "text": "热水器漏水，第二次了", "channel": "phone",
                                  "product": {"domain": "electronics"},
                                  "customer": {"tier": "vip"}}, now=NOW)
    assert row["row"] == 7 and actual(row) == expected(want)


def test_a_broken_policy_fails_at_submit_time_with_its_problems(spark: Any,
                                                                tmp_path: Path) -> None:
    """A policy that does not load raises its own PolicyError when the job is built."""
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURES / "broken_many", broken)
    df = spark.createDataFrame([row_of(BAD_ROWS[0])], INPUT_DDL)
    spark.sparkContext.setJobGroup("broken", "a broken policy runs no job")
    with pytest.raises(triage.PolicyError) as caught:
        triage_dataframe(df, broken)
    with pytest.raises(triage.PolicyError) as direct:
        triage.load_policy(broken)
    assert caught.value.problems == direct.value.problems and caught.value.problems
    assert spark.sparkContext.statusTracker().getJobIdsForGroup("broken") == []


def _other_minimal(tmp_path: Path) -> Path:
    """The minimal fixture policy with one rule's output changed: another version."""
    changed = tmp_path / "minimal_b"
    shutil.copytree(FIXTURES / "minimal", changed)
    text = (changed / "policy.yaml").read_text(encoding="utf-8")
    (changed / "policy.yaml").write_text(
        text.replace("set: {category: product_quality}", "set: {category: other}", 1),
        encoding="utf-8")
    return changed


def test_two_policy_versions_in_one_session_and_one_job(spark: Any, tmp_path: Path) -> None:
    """Two versions decide the same rows, even joined in one job, each as its own
    ``Policy.triage`` does, each row naming the version that decided it."""
    a = triage.load_policy(FIXTURES / "minimal")
    b = triage.load_policy(_other_minimal(tmp_path))
    assert a.version != b.version
    records = [{k: v for k, v in r.items() if k != "product"}  # minimal has one domain
               for r in corpus_records()[:300]]
    df = spark.createDataFrame([row_of(r) for r in records], INPUT_DDL).repartition(2)
    out_a = triage_dataframe(df, a, now=NOW)
    out_b = triage_dataframe(df, b.path, now=NOW)  # a directory, not a loaded Policy
    joined = out_a.alias("a").join(out_b.alias("b"), "id").select(
        "id", "a.policy_version", "a.category", "b.policy_version", "b.category").collect()
    assert len(joined) == len(records)
    by_id = {r["id"]: r for r in records}
    for row in joined:
        assert tuple(row)[1:] == (a.version, a.triage(by_id[row["id"]], now=NOW).category,
                                  b.version, b.triage(by_id[row["id"]], now=NOW).category)
    assert any(row[2] != row[4] for row in joined)


def test_an_executor_with_another_policy_version_fails_the_job(spark: Any) -> None:
    """When an executor's copy makes another version than the driver's, the job stops
    with both versions named instead of mixing them."""
    df = spark.createDataFrame([row_of(BAD_ROWS[0])], INPUT_DDL)
    shipped, _ = ship(spark, FIXTURES / "minimal")
    wrong = dataclasses.replace(shipped, version="0" * 16)
    plan = plan_columns(df.schema)
    types = import_module("pyspark.sql.types")
    schema = types.StructType([df.schema["id"], *(types.StructField(n, spark_type(k))
                                                  for n, k in decision_columns("lean"))])
    job = df.select(*plan.columns).mapInArrow(partial(_decide_batches, plan, wrong, "lean",
                                                      None), schema)
    with pytest.raises(Exception, match=r"but the job was submitted with 0000000000000000"):
        job.collect()


def _other_default(tmp_path: Path) -> Path:
    """The default policy with its first severe rule making complaints general."""
    changed = tmp_path / "rules_b"
    shutil.copytree(triage.bundled_policy_path(), changed)
    path = changed / "severity.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "set: {severity: severe}", "set: {severity: general}", 1), encoding="utf-8")
    return changed


def test_diff_dataframe_gives_the_report_of_triage_diff(spark: Any, tmp_path: Path) -> None:
    """With a sample as large as the changes, the report is that of ``diff_policies``;
    with a small sample, the counts stay those of every row."""
    old, new = triage.load_policy(), triage.load_policy(_other_default(tmp_path))
    records = corpus_records()
    df = spark.createDataFrame([row_of(r) for r in records], INPUT_DDL).coalesce(1)
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    report = diff_dataframe(df, old, new, sample=len(records), now=moment)
    want = diff_policies(old, new, records, now=moment)
    assert report.compared == want.compared and report.changed == len(want.decisions) > 0
    got, wanted = json.loads(report.to_json()), json.loads(want.to_json())
    assert got == wanted
    small = diff_dataframe(df.repartition(2), old, new, sample=3, now=moment)
    assert (small.compared, small.changed, dict(small.by_field)) == (
        want.compared, len(want.decisions), dict(want.by_field))
    assert len(small.decisions) == 3
    assert f"Decisions: {len(want.decisions)} of {want.compared} complaints change (a " \
           "sample of 3 shown)" in small.format()


def test_triage_dataframe_is_lazy_and_rejects_an_unknown_detail(spark: Any) -> None:
    """Building the job runs nothing on the cluster; a wrong ``detail`` is refused."""
    df = spark.createDataFrame([row_of(BAD_ROWS[0])], INPUT_DDL)
    spark.sparkContext.setJobGroup("lazy", "building the job")
    triage_dataframe(df)
    assert spark.sparkContext.statusTracker().getJobIdsForGroup("lazy") == []
    with pytest.raises(ValueError, match="detail must be 'lean' or 'full'"):
        triage_dataframe(df, detail="everything")  # type: ignore[arg-type]
