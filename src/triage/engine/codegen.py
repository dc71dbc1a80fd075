"""The policy's stages compiled into one generated Python function, the program.

The program runs the stages in order and tests each stage's rules in priority order, with
their conditions inlined as plain expressions, so that a complaint costs a few bytecodes
per rule instead of a chain of closure calls:

- ``any`` and ``none`` text tests are one integer AND: each word found sets the bits of
  the tests it satisfies in the complaint's masks ``MP`` (negation-aware) and ``MA``;
- the policy's regexes are matched during the keyword pass (``regex.RegexSet``), giving
  the mask ``MR`` (a negation-aware test also asks ``ctx.regex_stands``);
- common field tests read record fields fetched once into locals, and tests of earlier
  stages' outputs read locals refreshed after each stage.

Other field tests, whose edge cases (missing values, mixed types) live in
``conditions.py``, are called as the closures compiled there; a property test checks that
the program decides exactly as those closures do.

No text of the policy or of a complaint enters the generated source: every value is a
constant in the tuple ``K`` referred to by index, or an integer mask, and the source is
built only from the fixed fragments below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import Any, NamedTuple

from ..language.conditions import (
    AllOf,
    AnyOf,
    Condition,
    FieldTest,
    NotOf,
    OutputTest,
    RegexTest,
    SpanTest,
    TextTest,
)
from ..language.schema import STAGE_OUTPUTS
from ..language.validate import StageDef
from .conditions import compile_condition
from .context import Context
from .tally import compile_tally

#: ``Fired.held`` of a complaint on which no stage scored.
NO_HELD: Mapping[str, list[int]] = MappingProxyType({})

#: Deeper sub-conditions are called as closures, to stay far from the parser's nesting limit.
MAX_INLINE_DEPTH = 30

#: Record fields holding text (or a text enum) or nothing, read without a closure.
_TEXT_FIELDS = {
    "id": "c.id", "channel": "c.channel", "request_type": "c.request_type",
    **{f"customer.{name}": f"(c.customer.{name} if c.customer is not None else None)"
       for name in ("id", "name", "title", "tier", "locale")},
    **{f"product.{name}": f"(c.product.{name} if c.product is not None else None)"
       for name in ("domain", "line", "model", "lot")},
}
_ORDER = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class _Emitter:
    """Turns condition trees into expression source, collecting their constants."""

    def __init__(self, word_ids: dict[str, int], regex_ids: Mapping[str, int]) -> None:
        self.word_ids = word_ids
        self.constants: list[Any] = []
        #: One bit per distinct word set of an ``any``/``none`` text test.
        self.bits: dict[frozenset[int], int] = {}
        #: The bit of each regex in the mask the keyword pass computes (``Found.regexes``).
        self.regexes = regex_ids
        #: Record fields read into locals once per complaint: path -> (local, getter).
        self.fields: dict[str, tuple[str, str]] = {}
        #: Outputs of earlier stages that conditions test, kept in locals: name -> local.
        self.outputs: dict[str, str] = {}

    def field_local(self, path: str, getter: str) -> str:
        return self.fields.setdefault(path, (f"v{len(self.fields)}", getter))[0]

    def output_local(self, name: str) -> str:
        return self.outputs.setdefault(name, f"o{len(self.outputs)}")

    def bit(self, words: frozenset[int]) -> str:
        """The mask (an integer literal) of the test on ``words``."""
        return hex(1 << self.bits.setdefault(words, len(self.bits)))

    def word_masks(self) -> tuple[int, ...]:
        """For each word id, the bits of the text tests that the word satisfies."""
        masks = [0] * len(self.word_ids)
        for words, bit in self.bits.items():
            for kid in words:
                masks[kid] |= 1 << bit
        return tuple(masks)

    def const(self, value: Any) -> str:
        self.constants.append(value)
        return f"K[{len(self.constants) - 1}]"

    def expr(self, cond: Condition, depth: int = 0) -> str:
        if depth > MAX_INLINE_DEPTH:
            return f"{self.const(compile_condition(cond, self.word_ids).test)}(ctx)"
        if isinstance(cond, TextTest):
            ids = frozenset(self.word_ids[w.folded] for w in cond.words)
            if cond.mode == "all":
                return f"{self.const(ids)}.issubset({'P' if cond.negation else 'A'})"
            # One integer AND on the complaint's mask instead of a set intersection.
            mask, found = self.bit(ids), "MP" if cond.negation else "MA"
            return f"({found} & {mask})" if cond.mode == "any" else f"(not {found} & {mask})"
        if isinstance(cond, SpanTest):
            # the words must be there at all (one AND each) before positions are looked at
            found = "MP" if cond.negation else "MA"
            needs = [f"({found} & {self.bit(frozenset(self.word_ids[w.folded] for w in ws))})"
                     for ws in (cond.words, cond.near) if ws]
            call = f"{self.const(compile_condition(cond, self.word_ids).test)}(ctx)"
            return "(" + " and ".join([*needs, call]) + ")"
        if isinstance(cond, RegexTest):
            bit = hex(1 << self.regexes[cond.pattern])
            if not cond.negation:
                return f"(MR & {bit})"
            return f"(MR & {bit} and ctx.regex_stands({bit}))"
        if isinstance(cond, OutputTest):
            values = self.const(frozenset(cond.values))
            if cond.name == "flags":
                return f"(not F.isdisjoint({values}))"
            return f"({self.output_local(cond.name)} in {values})"
        if isinstance(cond, FieldTest):
            inline = self.field(cond)
            if inline is not None:
                return inline
        if isinstance(cond, AllOf):
            return "(" + " and ".join(self.expr(c, depth + 1) for c in cond.items) + ")"
        if isinstance(cond, AnyOf):
            return "(" + " or ".join(self.expr(c, depth + 1) for c in cond.items) + ")"
        if isinstance(cond, NotOf):
            return f"(not {self.expr(cond.item, depth + 1)})"
        return f"{self.const(compile_condition(cond, self.word_ids).test)}(ctx)"


    def field(self, cond: FieldTest) -> str | None:
        """An inline expression for the common field tests, None for the rest.

        Each gives the same result as the closure of ``conditions.py`` for every value the
        record model allows (a property test checks it).
        """
        op, value = cond.op, cond.value
        getter = _TEXT_FIELDS.get(cond.path)
        if getter is not None:
            getter = self.field_local(cond.path, getter)
            if op in ("eq", "ne") and isinstance(value, str):
                return f"({getter} {'==' if op == 'eq' else '!='} {self.const(value)})"
            if op in ("in", "not_in") and isinstance(value, tuple) and all(
                    isinstance(v, str) for v in value):
                test = "in" if op == "in" else "not in"
                return f"({getter} {test} {self.const(frozenset(value))})"
            return None
        if cond.path == "demands" and op == "contains":
            wanted = frozenset(value) if isinstance(value, tuple) else frozenset([value])
            demands = self.field_local("demands", "c.demands")
            return f"(not {self.const(wanted)}.isdisjoint({demands}))"
        if cond.path == "prior_rejections" and op in _ORDER and _is_int(value):
            rejections = self.field_local("prior_rejections", "c.prior_rejections")
            return f"({rejections} {_ORDER[op]} {self.const(value)})"
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PROLOGUE = ("    P = ctx.present\n    A = ctx.all\n    O = ctx.outputs\n    c = ctx.complaint\n")

#: What the program returns: the rules that fired in each stage of ``STAGES``, whose hit
#: policies are fixed. A ``first`` stage gives one index (-1: its default applied; -2: not
#: run, the record named its request type); the ``collect`` (flags), ``max`` (severity)
#: and ``merge`` (deadlines) stages give a list (empty: the default alone applies). A
#: ``first`` stage the policy leaves out (script) gives an empty list, read as "none".
class Fired(NamedTuple):
    """The rules that fired, stage by stage (indexes into each stage's rules)."""

    request_type: int
    flags: list[int]
    category: int
    severity: list[int]
    handling: int
    owner: int
    deadlines: list[int]
    script: int | list[int]
    #: For each ``hit: score`` stage that scored: the indexes of its scored rules that
    #: held (``tally.py`` adds them up). Empty when no stage scored.
    held: Mapping[str, list[int]]


Program = Callable[[Context, bool], Fired]


def compile_program(stages: Sequence[StageDef | None], ranks: Mapping[str, int],
                    word_ids: dict[str, int], regex_ids: Mapping[str, int]) -> Program:
    """One function deciding every stage in order, setting ``ctx.outputs`` and ``ctx.flags``.

    ``stages`` come in evaluation order, None for an optional stage the policy leaves out
    (it fires nothing); ``ranks`` orders severity values (higher wins); ``regex_ids`` gives
    each regex its bit in ``Found.regexes``.
    """
    emitter = _Emitter(word_ids, regex_ids)
    const = emitter.const
    scored = any(stage is not None and stage.scored for stage in stages)
    lines = ["def decide(ctx, given, K=K):\n", _PROLOGUE, "", f"    F = {const(frozenset())}\n",
             "    ctx.flags = F\n", "    H = {}\n" if scored else f"    H = {const(NO_HELD)}\n"]
    results = []
    refresh: list[tuple[int, str]] = []  # (line index, stage) to fill once outputs are known

    def _refresh(stage_name: str) -> str:
        refresh.append((len(lines), stage_name))
        return ""

    for number, stage in enumerate(stages):
        var = f"r{number}"
        results.append(var)
        if stage is None:
            lines.append(f"    {var} = []\n")
            continue
        rules = stage.rules
        if stage.hit == "first":
            lines += _single_value_stage(emitter, stage, var)
            lines.append(_refresh(stage.name))
            continue
        lines.append(f"    {var} = []\n")
        for i, rule in enumerate(rules):
            lines.append(f"    if {emitter.expr(rule.condition)}:\n        {var}.append({i})\n")
        if stage.hit == "merge":  # deadlines: merged per milestone after the program
            continue
        if stage.hit == "collect":  # the flags stage: the union of the flags set
            sets = const(tuple(frozenset(r.outputs.get("flags", ())) for r in rules))
            default = const(frozenset(stage.default.get("flags", ())))
            lines.append(f"    F = {const(frozenset())}.union(*[{sets}[i] for i in {var}]) "
                         f"if {var} else {default}\n    ctx.flags = F\n")
        else:  # "max": the highest-ranked value of the stage's one output
            name = STAGE_OUTPUTS[stage.name][0]
            values = const(tuple(r.outputs[name] for r in rules))
            lines.append(f"    O[{const(name)}] = max([{values}[i] for i in {var}], "
                         f"key={const(dict(ranks))}.__getitem__) if {var} else "
                         f"{const(stage.default[name])}\n")
            lines.append(_refresh(stage.name))
    lines.append(f"    return FIRED(({', '.join(results)}, H))\n")
    for at, stage_name in refresh:
        lines[at] = "".join(
            f"    {emitter.outputs[name]} = O.get({const(name)})\n"
            for name in STAGE_OUTPUTS[stage_name] if name in emitter.outputs)
    masks = const(emitter.word_masks())
    lines[2] = "".join(f"    {local} = {getter}\n" for local, getter in emitter.fields.values())
    lines[2] += "".join(f"    {local} = None\n" for local in emitter.outputs.values())
    lines[2] += "    MR = ctx.found.regexes\n"
    lines[2] += (f"    W = {masks}\n    MP = 0\n    for k in P:\n        MP |= W[k]\n"
                "    if A is P:\n        MA = MP\n    else:\n        MA = 0\n"
                "        for k in A:\n            MA |= W[k]\n")
    program: Program = _build("program", "".join(lines), emitter.constants,
                              {"max": max, "FIRED": partial(tuple.__new__, Fired)})
    return program


def _single_value_stage(emitter: _Emitter, stage: StageDef, var: str) -> list[str]:
    """The source deciding a ``first`` stage, or a ``score`` stage: its decisive rules in
    priority order, then, when none holds, the tally of the scored rules that hold."""
    const, rules = emitter.const, stage.rules
    outputs = const((*[dict(r.outputs) for r in rules], dict(stage.default)))
    lines = ["    if given:\n        " + var + " = -2\n" if stage.name == "request_type"
             else "    if False:\n        pass\n"]
    for i, rule in enumerate(rules):
        if stage.scored and not rule.decisive:
            continue
        lines.append(f"    elif {emitter.expr(rule.condition)}:\n        {var} = {i}\n")
    if stage.scored:  # no decisive rule held: add up the scored rules that hold
        lines.append("    else:\n        S = []\n")
        for i, rule in enumerate(rules):
            if not rule.decisive:
                lines.append(f"        if {emitter.expr(rule.condition)}:\n"
                             f"            S.append({i})\n")
        lines.append(f"        {var} = {const(compile_tally(stage))}(S)\n"
                     f"        H[{const(stage.name)}] = S\n")
    else:
        lines.append(f"    else:\n        {var} = -1\n")
    lines.append(f"    if {var} != -2:\n        O.update({outputs}[{var}])\n")
    return lines


def _build(name: str, source: str, constants: list[Any],
           builtins: dict[str, Any] | None = None) -> Any:
    namespace: dict[str, Any] = {"K": tuple(constants), "__builtins__": builtins or {}}
    code = compile(source, f"<triage {name}>", "exec")
    exec(code, namespace)
    return namespace["decide"]
