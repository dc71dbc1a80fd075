"""The decision as typed columns: one description, read as a Spark and an Arrow schema.

``decision_columns(detail)`` describes the output columns in a small type language of
plain tuples (``"string"``, ``("array", T)``, ``("struct", ((name, T), ...))``,
``("map", K, V)``), so the driver's Spark schema and the executors' Arrow schema come from
the same place and cannot drift apart. ``decision_row`` and ``error_row`` fill one row.
pyspark and pyarrow are imported only by the functions that build their schemas.
"""

from __future__ import annotations

import json
from typing import Any

from ..decision import Decision, Detail
from ..errors import RecordError

#: A column type: a scalar name, or a tuple for arrays, structs and maps.
ColumnType = str | tuple[Any, ...]

_ROLE: ColumnType = ("struct", (("role", "string"), ("name", "string")))
_ERROR: ColumnType = ("struct", (
    ("code", "string"), ("message", "string"),
    ("issues", ("array", ("struct", (("field", "string"), ("message", "string"))))),
    ("template", "string"), ("template_line", "int")))

#: The columns of a lean decision, in order (the key columns come before them).
LEAN_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("complaint_id", "string"),
    ("request_type", "string"),
    ("handling", "string"),
    ("category", "string"),
    ("subcategory", "string"),
    ("severity", "string"),
    ("flags", ("array", "string")),
    ("owner", _ROLE),
    ("escalation", ("array", _ROLE)),
    ("deadlines", ("array", ("struct", (
        ("milestone", "string"), ("label", "string"), ("due", "timestamp"),
        ("due_text", "string"), ("calendar", "string"))))),
    ("reply", ("struct", (("script_id", "string"), ("text", "string"),
                          ("locale", "string")))),
    ("warnings", ("array", "string")),
    ("received_at", "timestamp"),
    ("received_at_source", "string"),
    ("rules", ("map", "string", ("array", "string"))),
    ("policy_version", "string"),
    ("error", _ERROR),
)
#: What ``detail="full"`` adds: the explanation and the scores as JSON text (their
#: evidence has a different shape for each kind, so it is not a Spark struct).
FULL_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("explanation", "string"),
    ("scores", "string"),
)


def decision_columns(detail: Detail = "lean") -> tuple[tuple[str, ColumnType], ...]:
    """The decision columns of ``triage_dataframe`` for ``detail``."""
    return LEAN_COLUMNS + (FULL_COLUMNS if detail == "full" else ())


def spark_type(column: ColumnType) -> Any:
    """The pyspark ``DataType`` of a column type."""
    from pyspark.sql import types as t  # noqa: PLC0415 (optional dependency, loaded on use)

    scalars: dict[str, Any] = {"string": t.StringType(), "timestamp": t.TimestampType(),
                               "int": t.IntegerType(), "long": t.LongType()}
    if isinstance(column, str):
        return scalars[column]
    if column[0] == "array":
        return t.ArrayType(spark_type(column[1]))
    if column[0] == "map":
        return t.MapType(spark_type(column[1]), spark_type(column[2]))
    return t.StructType([t.StructField(name, spark_type(sub)) for name, sub in column[1]])


def arrow_type(column: ColumnType) -> Any:
    """The pyarrow ``DataType`` Spark expects for a column type (timestamps in UTC)."""
    import pyarrow as pa  # noqa: PLC0415 (optional dependency, loaded on use)

    scalars: dict[str, Any] = {"string": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"),
                               "int": pa.int32(), "long": pa.int64()}
    if isinstance(column, str):
        return scalars[column]
    if column[0] == "array":
        return pa.list_(arrow_type(column[1]))
    if column[0] == "map":
        return pa.map_(arrow_type(column[1]), arrow_type(column[2]))
    return pa.struct([pa.field(name, arrow_type(sub)) for name, sub in column[1]])


def decision_row(decision: Decision, detail: Detail) -> dict[str, Any]:
    """The decision columns of one decided complaint."""
    reply = decision.reply
    row: dict[str, Any] = {
        "complaint_id": decision.complaint_id,
        "request_type": decision.request_type,
        "handling": decision.handling,
        "category": decision.category,
        "subcategory": decision.subcategory,
        "severity": decision.severity,
        "flags": list(decision.flags),
        "owner": {"role": decision.owner.role, "name": decision.owner.name},
        "escalation": [{"role": r.role, "name": r.name} for r in decision.escalation],
        "deadlines": [{"milestone": d.milestone, "label": d.label, "due": d.due,
                       "due_text": d.due_text, "calendar": d.calendar}
                      for d in decision.deadlines],
        "reply": None if reply is None else {"script_id": reply.script_id, "text": reply.text,
                                             "locale": reply.locale},
        "warnings": list(decision.warnings),
        "received_at": decision.received_at,
        "received_at_source": decision.received_at_source,
        "rules": list(decision.rules_by_stage().items()),
        "policy_version": decision.policy_version,
        "error": None,
    }
    if detail == "full":
        full = decision.to_dict("full")
        row["explanation"] = json.dumps(full["explanation"], ensure_ascii=False)
        scores = full.get("scores")
        row["scores"] = None if scores is None else json.dumps(scores, ensure_ascii=False)
    return row


def error_row(error: RecordError, policy_version: str) -> dict[str, Any]:
    """The decision columns of a row that could not be decided: all null but the id,
    the policy version and the error."""
    return {
        "complaint_id": error.complaint_id, "policy_version": policy_version,
        "error": {"code": error.code, "message": error.message,
                  "issues": [{"field": i.field, "message": i.message} for i in error.issues],
                  "template": error.template, "template_line": error.template_line},
    }
