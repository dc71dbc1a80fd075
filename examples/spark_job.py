"""Triage a table of complaints on Spark and write the decisions (docs/spark.md).

    spark-submit examples/spark_job.py complaints.parquet decisions.parquet [POLICY_DIR]
"""

import sys

from pyspark.sql import SparkSession

from triage.spark import triage_dataframe

source, target = sys.argv[1], sys.argv[2]
policy = sys.argv[3] if len(sys.argv) > 3 else None  # None: the bundled default policy
spark = SparkSession.builder.appName("triage").getOrCreate()
complaints = spark.read.parquet(source)  # columns id, text, channel, received_at, ...
decisions = triage_dataframe(complaints, policy)  # checks columns and policy here
decisions.write.mode("overwrite").parquet(target)
failed = spark.read.parquet(target).where("error IS NOT NULL").count()  # rows, not a crash
print(f"{failed} rows could not be decided; see their error column", file=sys.stderr)
spark.stop()
