"""DataFrames in, decisions out: ``triage_dataframe`` and ``diff_dataframe``.

Both check the input columns and load the policy on the driver, when called (a bad column
or a broken policy stops the job before any task), then decide on the executors in Arrow
batches (``mapInArrow``) with the policy each Python worker loaded once
(``shipping.executor_policy``). A row that cannot be decided gets an error struct in its
own row; it never fails the job.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ..authoring.diff import (
    FIELDS,
    DecisionChange,
    DiffReport,
    changed_fields,
    decision_fields,
    rule_changes,
)
from ..decision import Detail
from ..errors import ColumnError, ComplaintError, FieldIssue, RecordError
from .columns import InputPlan, plan_columns
from .schema import arrow_type, decision_columns, decision_row, error_row, spark_type
from .shipping import PolicySource, Shipped, executor_policy, ship

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def triage_dataframe(df: DataFrame, policy: PolicySource = None, *, detail: Detail = "lean",
                     now: datetime | None = None, columns: Mapping[str, str] | None = None,
                     keys: Sequence[str] | None = None) -> DataFrame:
    """Decide every row of ``df`` with ``policy`` (a ``Policy``, a policy directory or file,
    or None for the bundled one): a DataFrame of the ``keys`` columns (default: the id
    column) and the decision columns (``triage.spark.decision_columns(detail)``).

    Columns are matched to complaint fields by name (``id``, ``text``, ``channel``,
    ``received_at``, ``customer`` as a struct or ``customer_tier``-style flat columns...);
    ``columns`` maps a field to a column of another name (``{"text": "body"}``). ``now``
    stands in for a missing ``received_at``, as in ``Policy.triage``. Lazy, like any
    transformation: nothing is decided until an action runs.

    Raises ``ColumnError`` listing every missing or mistyped column and ``PolicyError``
    listing the policy's problems, both before any task runs. A row that cannot be decided
    has null decision columns and an ``error`` struct (code, message, issues).
    """
    if detail not in ("lean", "full"):
        raise ValueError(f"detail must be 'lean' or 'full', not {detail!r}")
    types = _spark_types()
    plan = plan_columns(df.schema, columns=columns, keys=keys)
    decided = decision_columns(detail)
    clash = [k for k in plan.keys if k in dict(decided)]
    if clash:
        raise ColumnError([FieldIssue(f"keys[{k!r}]", "the decision has a column of that name; "
                                      "rename the key column first (withColumnRenamed)")
                           for k in clash])
    shipped, _ = ship(df.sparkSession, policy)
    schema = types.StructType([df.schema[k] for k in plan.keys]
                              + [types.StructField(name, spark_type(kind))
                                 for name, kind in decided])
    job = partial(_decide_batches, plan, shipped, detail, now)
    return df.select(*plan.columns).mapInArrow(job, schema)


def diff_dataframe(df: DataFrame, old_policy: PolicySource, new_policy: PolicySource, *,
                   sample: int = 20, now: datetime | None = None,
                   columns: Mapping[str, str] | None = None) -> DiffReport:
    """What changing ``old_policy`` for ``new_policy`` does to the complaints of ``df``:
    the report of ``triage diff`` (rules added, removed and changed; per decision field
    the number of complaints whose value changes), with the first ``sample`` changed
    complaints (in partition order) as its ``decisions`` and ``changed`` their number.

    Runs one Spark job. Rows either policy cannot decide are left out of ``compared``,
    as ``triage diff`` leaves them out; ``now`` (default: the time of the call) stands in
    for a missing ``received_at`` for both policies.
    """
    if sample < 0:
        raise ValueError(f"sample must be 0 or more, not {sample}")
    types = _spark_types()
    plan = plan_columns(df.schema, columns=columns, keys=())
    old_shipped, old = ship(df.sparkSession, old_policy)
    new_shipped, new = ship(df.sparkSession, new_policy)
    schema = types.StructType([
        types.StructField("compared", types.LongType()),
        types.StructField("field", types.StringType()),
        types.StructField("count", types.LongType()),
        types.StructField("complaint_id", types.StringType()),
        types.StructField("delta", types.StringType())])
    job = partial(_diff_batches, plan, old_shipped, new_shipped, now or datetime.now(UTC),
                  sample)
    compared = 0
    counts: Counter[str] = Counter()
    changes: list[DecisionChange] = []
    for row in df.select(*plan.columns).mapInArrow(job, schema).collect():
        if row["compared"] is not None:
            compared += row["compared"]
        elif row["field"] is not None:
            counts[row["field"]] += row["count"]
        elif len(changes) < sample:
            delta = json.loads(row["delta"])
            changes.append(DecisionChange(row["complaint_id"],
                                          {k: (b, a) for k, (b, a) in delta.items()}))
    changed = counts.pop(_CHANGED, 0)
    by_field = {k: counts[k] for k in FIELDS if k in counts}
    return DiffReport(old.version, new.version, rule_changes(old, new), tuple(changes),
                      compared, by_field, changed)


#: The count, among a partition's per-field counts, of the complaints that change at all.
_CHANGED = "__changed__"


def _decide_batches(plan: InputPlan, shipped: Shipped, detail: Detail, now: datetime | None,
                    batches: Iterable[Any]) -> Iterator[Any]:
    """On an executor: each Arrow batch of input rows as a batch of decisions."""
    import pyarrow as pa  # noqa: PLC0415 (optional dependency, loaded on use)

    policy = executor_policy(shipped)
    version = policy.version
    decided_schema = pa.schema([pa.field(name, arrow_type(kind))
                                for name, kind in decision_columns(detail)])
    for batch in batches:
        out = []
        for record in plan.records(batch.to_pylist()):
            result = (_invalid(record) if isinstance(record, ComplaintError)
                      else next(iter(policy.triage_many([record], now=now))))
            out.append(error_row(result, version) if isinstance(result, RecordError)
                       else decision_row(result, detail))
        decided = pa.RecordBatch.from_pylist(out, schema=decided_schema)
        keys = [batch.schema.field(k) for k in plan.keys]
        yield pa.RecordBatch.from_arrays(
            [*(batch.column(k) for k in plan.keys), *decided.columns],
            schema=pa.schema([*keys, *decided_schema]))


def _diff_batches(plan: InputPlan, old_shipped: Shipped, new_shipped: Shipped, now: datetime,
                  sample: int, batches: Iterable[Any]) -> Iterator[Any]:
    """On an executor: one partition's part of a diff, as rows of one batch: the number
    compared, the changes per field (and ``__changed__``: complaints changed), and up to
    ``sample`` changed complaints."""
    import pyarrow as pa  # noqa: PLC0415 (optional dependency, loaded on use)

    old, new = executor_policy(old_shipped), executor_policy(new_shipped)
    compared = 0
    counts: Counter[str] = Counter()
    samples: list[dict[str, Any]] = []
    for batch in batches:
        for record in plan.records(batch.to_pylist()):
            if isinstance(record, ComplaintError):
                continue
            before = next(iter(old.triage_many([record], now=now)))
            after = next(iter(new.triage_many([record], now=now)))
            if isinstance(before, RecordError) or isinstance(after, RecordError):
                continue
            compared += 1
            delta = changed_fields(decision_fields(before), decision_fields(after))
            if delta:
                counts.update(delta.keys())
                counts[_CHANGED] += 1
                if len(samples) < sample:
                    samples.append({"complaint_id": str(record.get("id", compared)),
                                    "delta": json.dumps(delta, ensure_ascii=False)})
    rows: list[dict[str, Any]] = [{"compared": compared}]
    rows += [{"field": k, "count": n} for k, n in counts.items()]
    rows += samples
    yield pa.RecordBatch.from_pylist(rows, schema=pa.schema([
        ("compared", pa.int64()), ("field", pa.string()), ("count", pa.int64()),
        ("complaint_id", pa.string()), ("delta", pa.string())]))


def _invalid(error: ComplaintError) -> RecordError:
    """The error of a row that could not even be read as a record."""
    return RecordError(0, "invalid-record", error.message, error.complaint_id, error.issues)


def _spark_types() -> Any:
    """``pyspark.sql.types``, or an ``ImportError`` that says how to install it."""
    try:
        from pyspark.sql import types  # noqa: PLC0415 (optional dependency, loaded on use)
    except ImportError as exc:
        raise ImportError("triage.spark needs PySpark 3.5 or later: pip install "
                          "'triage[spark]'") from exc
    return types
