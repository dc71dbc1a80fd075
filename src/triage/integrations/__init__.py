"""The edge where triage meets services: batch routing over processes, live policy reload.

Owns ``batch`` (JSON lines in, decisions out, in order, on worker processes) and
``store`` (``PolicyStore``: the live policy, swapped atomically on reload). Later
integrations (Spark) sit at this level too; the web workbench (``triage.web``) sits
just above. May import everything below it; only the workbench and the CLI import it.
"""
