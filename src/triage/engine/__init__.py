"""The compiled evaluator: a validated ``PolicyModel`` -> one program run per complaint.

Owns the keyword index (every policy word and negation cue in one RE2 set pass,
``keywords``), the per-complaint ``context``, conditions compiled to test and explain
closures (``conditions``), the generated stage program (``codegen``), stage outputs
(``stages``) and the optional second engine on durable-rules (``durable``). May import
the language, ``text``, ``complaint``, ``decision`` and ``errors``; never ``policy``,
the authoring tools, integrations or the CLI.
"""
