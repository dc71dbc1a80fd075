"""Tools for the people who write policies: cases, check, diff, explain, the pytest plugin.

Owns ``cases`` (a policy's own test cases in ``cases/*.yaml``), ``analysis`` (what
``triage check`` proves about rules: shadowing, ties), ``diff`` (what a change does to
decisions), ``explain`` (a decision as text) and ``pytest_plugin``. Built on the public
front (``policy``, ``decision``) and the language; never imports ``integrations`` or the
CLI.
"""
