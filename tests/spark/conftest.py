"""One local Spark (``local[2]``) for the Spark tests, started once per test session.

The tests skip, with the reason, only where pyspark is not installed or there is no
``java``; CI installs both (``.ci/run``) and sets ``TRIAGE_REQUIRE_SPARK``, which turns
that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from importlib import import_module
from importlib.util import find_spec
from typing import Any

import pytest


def _why_no_spark() -> str | None:
    missing = [name for name in ("pyspark", "pyarrow") if find_spec(name) is None]
    if missing:
        return f"{' and '.join(missing)} not installed: pip install 'triage[spark]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java: install a JRE 17 (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A SparkSession on two local cores, with modest memory, stopped at the end."""
    reason = _why_no_spark()
    if reason is not None and os.environ.get("TRIAGE_REQUIRE_SPARK"):
        pytest.fail(f"TRIAGE_REQUIRE_SPARK is set, but {reason}")
    if reason is not None:
        pytest.skip(reason)
    SparkSession = import_module("pyspark.sql").SparkSession  # noqa: N806

    # the executors' Python workers run this interpreter (this venv), not PATH's python3
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("triage-tests")
               .config("spark.driver.memory", "2g")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "Asia/Shanghai")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "200")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
