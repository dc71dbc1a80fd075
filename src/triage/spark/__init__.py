"""Triage and policy impact on Apache Spark (the ``spark`` extra: PySpark 3.5+ or 4.x).

Owns ``triage_dataframe`` (decisions as typed columns, decided in Arrow batches on the
executors), ``diff_dataframe`` (what a policy change does to a table of complaints), the
input column plan (``columns.py``), the output schema (``schema.py``) and the shipping of
policy files to executors, each loading them once per process (``shipping.py``). May
import the policy, decision, errors and complaint modules and ``triage.authoring.diff``;
never the CLI. ``import triage`` never imports this package, and this package imports
pyspark and pyarrow only when a function needs them. See docs/spark.md.
"""

from .columns import FIELD_NAMES
from .frames import diff_dataframe, triage_dataframe
from .schema import decision_columns
from .shipping import PolicySource

__all__ = ["FIELD_NAMES", "PolicySource", "decision_columns", "diff_dataframe",
           "triage_dataframe"]
