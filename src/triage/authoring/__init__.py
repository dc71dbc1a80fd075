"""Tools for the people who write policies: cases, check, diff, explain, fit, eval.

Owns ``cases`` (a policy's own test cases in ``cases/*.yaml``) and ``coverage`` (which
rules they fire), ``analysis`` (what ``triage check`` proves about rules: shadowing, ties),
``diff`` (what a change does to decisions), ``explain`` (a decision as text),
``labelled`` (labelled complaints: corpus lines and cases), ``evaluation`` (accuracy and
each rule's figures on them), ``fit`` (weights of scored stages fitted from them) with
``patch`` (the proposed weights as a diff of the YAML files), and ``pytest_plugin``.
Built on the public front (``policy``, ``decision``), the language and the engine's
tally; never imports ``integrations`` or the CLI.
"""
