"""The policy language: YAML files -> a validated, merged ``PolicyModel``.

Owns the stages before compilation: ``loader`` (safe YAML with a line/column source
map), ``schema`` (pydantic models of each file), ``conditions`` (the condition grammar,
parsed into frozen objects), ``implication`` (which condition implies which) and
``validate`` (references, defaults, ties; every problem collected into one
``PolicyError``). May import ``errors``, ``text``, ``complaint`` and the runtime it
compiles specs for (``deadlines``, ``replies``); never ``engine``, ``policy`` or above.
"""
