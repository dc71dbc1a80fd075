"""Spark throughput: ``triage_dataframe`` on local[1] and local[2] against ``triage route``.

``python benchmarks/spark.py [--count N] [--repeats R] [--files F]`` writes N synthetic
complaints (default 20,000; ``benchmarks/synthetic.py``, seed 0) as F Parquet files (the
input splits) and as one JSON-lines file, then times, in the same run and interleaved:

- ``triage_dataframe`` on ``local[1]`` and ``local[2]``: read the Parquet, decide every row
  (lean), write nothing (Spark's ``noop`` sink), one fresh SparkSession per master, so
  that each run includes starting the Python workers and loading the policy on each;
- ``triage route --workers 1`` and ``--workers 2`` on the JSON lines (lean, to /dev/null).

All use the default policy and the same ``now``. It prints each run's seconds and
complaints per second, the local[2] / local[1] speed-up, and Spark's per-core rate as a
share of ``triage route``'s. Needs the ``spark`` extra and Java.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from itertools import groupby
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate

NOW = "2026-11-23T10:00:00+08:00"
CHUNK = 50_000


def write_inputs(folder: Path, count: int, files: int) -> tuple[Path, Path]:
    """The complaints as ``files`` Parquet files and one JSON-lines file."""
    import pyarrow as pa  # noqa: PLC0415 (the spark extra: imported when used)
    import pyarrow.parquet as pq  # noqa: PLC0415

    schema = pa.schema([
        ("id", pa.string()), ("text", pa.string()), ("channel", pa.string()),
        ("request_type", pa.string()), ("received_at", pa.string()),
        ("customer", pa.struct([(n, pa.string()) for n in
                                ("id", "name", "title", "tier", "locale")])),
        ("product", pa.struct([(n, pa.string()) for n in
                               ("domain", "line", "model", "purchase_date", "lot")])),
        ("prior_rejections", pa.int64()), ("demands", pa.list_(pa.string())),
        ("attributes", pa.string())])
    parquet, lines = folder / "complaints.parquet", folder / "complaints.jsonl"
    parquet.mkdir()
    per_file = -(-count // files)
    writer, current = None, -1
    with lines.open("w", encoding="utf-8") as out:
        for start in range(0, count, CHUNK):
            records = generate(min(CHUNK, count - start), seed=start)
            for i, record in enumerate(records):
                record["id"] = f"S{start + i:08d}"
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                if "attributes" in record:
                    record["attributes"] = json.dumps(record["attributes"], ensure_ascii=False)
            for index, group in groupby(enumerate(records, start), lambda p: p[0] // per_file):
                if index != current:
                    if writer is not None:
                        writer.close()
                    writer, current = pq.ParquetWriter(parquet / f"part-{index:03d}.parquet",
                                                       schema), index
                writer.write_table(pa.Table.from_pylist([r for _, r in group], schema=schema))
    if writer is not None:
        writer.close()
    return parquet, lines


def spark_run(parquet: Path, master: str) -> float:
    """Seconds for one job deciding every row on a fresh session of ``master``."""
    from pyspark.sql import SparkSession  # noqa: PLC0415

    from triage.spark import triage_dataframe  # noqa: PLC0415

    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master(master).appName("triage-bench")
             .config("spark.driver.memory", "2g").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))
        df = spark.read.parquet(str(parquet))
        start = time.perf_counter()
        triage_dataframe(df, now=now).write.format("noop").mode("overwrite").save()
        return time.perf_counter() - start
    finally:
        spark.stop()


def route_run(lines: Path, workers: int) -> float:
    """Seconds for the whole ``triage route --workers N`` command (lean, to /dev/null)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "triage.cli", "route", str(lines), "--no-progress",
         "--workers", str(workers), "--now", NOW], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, check=False)
    if done.returncode not in (0, 2):
        raise SystemExit(done.stderr.decode())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--files", type=int, default=8, help="Parquet files (input splits)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        parquet, lines = write_inputs(Path(folder), args.count, args.files)
        size = sum(p.stat().st_size for p in parquet.iterdir()) / 1e6
        print(f"{args.count:,} complaints: {size:.1f} MB of Parquet in {args.files} files, "
              f"{lines.stat().st_size / 1e6:.1f} MB of JSON lines (written in "
              f"{time.perf_counter() - started:.0f} s); {os.cpu_count()} cores; median of "
              f"{args.repeats} run(s), interleaved")
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for name, run in (("spark local[1]", lambda: spark_run(parquet, "local[1]")),
                              ("spark local[2]", lambda: spark_run(parquet, "local[2]")),
                              ("route --workers 1", lambda: route_run(lines, 1)),
                              ("route --workers 2", lambda: route_run(lines, 2))):
                runs.setdefault(name, []).append(run())
        rate = {name: args.count / statistics.median(times) for name, times in runs.items()}
        for name, times in runs.items():
            print(f"  {name:18s} {statistics.median(times):8.1f} s  {rate[name]:>8,.0f} "
                  "complaints/s")
        print(f"  local[2] / local[1]: {rate['spark local[2]'] / rate['spark local[1]']:.2f}x"
              " (target >= 1.7x)")
        print(f"  per core, local[1] / route --workers 1: "
              f"{rate['spark local[1]'] / rate['route --workers 1']:.2f} (target >= 0.70)")
        print(f"  per core, local[2] / route --workers 2: "
              f"{rate['spark local[2]'] / rate['route --workers 2']:.2f}")
        per_core = rate["spark local[1]"]
        for cores in (1, 4):
            hours = 100e6 / (50 * cores * per_core) / 3600
            print(f"  paper estimate, 100 million on 50 executors x {cores} core(s) at the "
                  f"local[1] rate: {hours:.1f} h")


if __name__ == "__main__":
    main()
