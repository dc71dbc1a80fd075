"""examples/spark_job.py runs under spark-submit as docs/spark.md says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT


def test_the_example_job_runs_with_spark_submit(spark: Any, tmp_path: Path) -> None:
    """``spark-submit --master local[1] examples/spark_job.py IN OUT`` decides every row
    and reports the bad one."""
    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        pytest.skip(f"no spark-submit beside {sys.executable}")
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    spark.createDataFrame([("A1", "热水器漏水，第二次了", "phone"), ("A2", "投诉", "pigeon")],
                          "id string, text string, channel string").write.parquet(str(source))
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--driver-memory", "1g",
         "--conf", "spark.ui.enabled=false", str(ROOT / "examples" / "spark_job.py"),
         str(source), str(target)],
        capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # spark-submit passes the script's stderr on through its own stdout
    assert "1 rows could not be decided; see their error column" in done.stdout + done.stderr
    rows = {r["id"]: r for r in spark.read.parquet(str(target)).collect()}
    assert rows["A1"]["error"] is None and rows["A1"]["category"] == "product_quality"
    assert rows["A2"]["error"]["code"] == "invalid-record"
