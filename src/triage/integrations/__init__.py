"""The edge where triage meets services: batch routing over processes, live policy reload.

Owns ``batch`` (JSON lines in, decisions out, in order, on worker processes) and
``store`` (``PolicyStore``: the live policy, swapped atomically on reload). Later
integrations (case history, Spark, the web workbench) sit at this level too. May import
everything below it; only the CLI imports it.
"""
