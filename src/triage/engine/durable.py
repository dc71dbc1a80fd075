"""The second engine: the same validated policy evaluated on durable-rules' Rete network.

Its value is independent confirmation of the compiled program's decisions. What is shared
and what is not:

- Shared: the text layer. Folding, finding the policy's words with negation, and RE2
  regex matching run once, as for the compiled engine; the results enter each fact as
  arrays of word and regex ids (``p``: found and not negated everywhere, ``a``: found,
  ``rx``: regexes that match). durable-rules' own regex engine is not used on customer
  text: it misses matches (``.*(漏水|异响).*`` does not match "漏水异") and cannot
  express negation (docs/engines.md; ``tests/test_durable.py`` pins the misses).
- Independent: everything else. Each condition tree becomes a durable-rules condition
  (``$and``, ``$or``, ``$iany``/``$iall`` over those arrays, comparisons on typed field
  properties, ``not`` pushed down to the leaves), each stage a set of rulesets, and each
  stage's hit policy (first, collect, max, merge) is applied here to the rules the
  network fired. A ``score`` stage is added up by ``tally.py``, the one definition of
  scoring that both engines call on the rules they found holding.

The C engine is driven directly, without ``durable.engine.Host`` and its timer threads:
a fact is asserted, its actions drained in the calling thread, and the fact retracted,
so no state accumulates. One lock per program serialises complaints (the engine keeps
one action queue per state, and two threads sharing it get each other's results).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import math
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..errors import EngineError
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
    walk,
)
from ..language.schema import STAGE_OUTPUTS
from ..language.validate import StageDef
from .codegen import NO_HELD, Fired, Program
from .conditions import compile_condition, field_reader
from .context import Context
from .tally import compile_tally

#: durable-rules' C core (``rules.h``, ``state.h``, ``events.c``, ``rete.c`` of 2.0.28).
MAX_FACT_PROPERTIES = 252   # MAX_OBJECT_PROPERTIES 255, less the engine's sid and id
MAX_ALPHA_MATCHES = 64      # MAX_STACK_SIZE: alpha nodes one fact may match (error 303)
MAX_CHILDREN = 511          # NEXT_BUCKET_LENGTH 512: children of one node (hangs beyond)
#: How many values one ``$iany`` tests (its alternatives are children of one node).
VALUES_PER_TEST = 400
#: The first member of every array property, equal to no word or regex id (``ID``), and
#: to no field key, flag or output value (``KEY``).
SENTINEL_ID, SENTINEL_KEY = -1, ""
_NOT_HANDLED, _OBSERVED = 1, 2
#: How often a ruleset's creation is tried (see ``_Ruleset``).
CREATE_ATTEMPTS = 12
_ERRORS = {
    "303": f"the complaint matches more than {MAX_ALPHA_MATCHES} conditions of one ruleset "
           "(durable-rules' MAX_STACK_SIZE)",
    "302": f"the fact would have more than {MAX_FACT_PROPERTIES} properties "
           "(durable-rules' MAX_OBJECT_PROPERTIES)",
}

Json = dict[str, Any]
_NAIVE_EPOCH = datetime(1970, 1, 1)


def _c_engine() -> Any:
    """durable-rules' C module (an optional dependency, imported when first asked for)."""
    return importlib.import_module("durable_rules_engine")


def durable_available() -> str | None:
    """None when durable-rules can be used here, else why not and what to do."""
    if sys.version_info >= (3, 13):
        return ("durable-rules 2.0.28 cannot be imported on Python 3.13 or newer (its C "
                "extension calls PyEval_CallObject, removed in 3.13); use engine='compiled', "
                "or Python 3.11 or 3.12 with pip install 'triage[durable]'")
    try:
        _c_engine()
    except ImportError:
        return ("durable-rules is not installed: pip install 'triage[durable]' "
                "(Python 3.11 or 3.12), or use engine='compiled'")
    return None


# -- facts ---------------------------------------------------------------------------------


class _Fields:
    """The record fields the policy tests, each given a short property prefix ``f<i>``."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.prefix = {path: f"f{i}" for i, path in enumerate(paths)}
        self.readers = [(self.prefix[p], field_reader(p)) for p in paths]

    def properties(self, ctx: Context) -> Json:
        out: Json = {}
        for prefix, read in self.readers:
            out[prefix + "e"] = out[prefix + "c"] = [SENTINEL_KEY]  # missing: no member
            out.update(_field_properties(prefix, read(ctx)))
        return out


def _field_properties(prefix: str, value: Any) -> Json:
    """A field value as typed properties, so that each test reads only values it could
    compare: ``e`` equality keys, ``n``/``s``/``d``/``t``/``T`` orderable values, ``c``
    list members, ``x`` present (not None, not ``()``, not ``""``)."""
    if value is None:
        return {}
    value = getattr(value, "value", value)  # enums compare as their text
    out: Json = {}
    if value not in ((), ""):  # the compiled engine's own test
        out[prefix + "x"] = 1
    if isinstance(value, tuple | list):
        keys = []
        for member in value:  # up to the first unhashable one, as set.isdisjoint sees them
            item = getattr(member, "value", member)
            if isinstance(item, dict | list):
                break
            keys.append(_key(item))
        out[prefix + "c"] = [SENTINEL_KEY, *keys]
        return out
    out[prefix + "e"] = [SENTINEL_KEY, _key(value)]
    order = _order(value)
    if order is not None:
        out[prefix + order[0]] = order[1]
    return out


def _key(value: Any) -> str:
    """Text equal for values Python calls equal (``True == 1 == 1.0``), else different."""
    if isinstance(value, bool | int | float) and not (isinstance(value, float)
                                                     and not math.isfinite(value)):
        number = float(value)
        return "n:" + (repr(number) if number == value else str(value))
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, datetime):
        kind, seconds = _instant(value)
        return f"{kind}:{seconds!r}"
    if isinstance(value, date):
        return "d:" + value.isoformat()
    return "r:" + repr(value)


def _order(value: Any) -> tuple[str, Any] | None:
    """The property suffix and value that ``gt``/``lt``/``between`` read, if orderable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return ("n", value) if math.isfinite(value) else None
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date):
        return ("d", value.toordinal())
    return None


def _instant(value: datetime) -> tuple[str, float]:
    """Seconds since 1970, under ``t`` when the time is aware and ``T`` when it is naive:
    Python never finds an aware and a naive time equal, nor orders them."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return ("t", value.timestamp())
    return ("T", (value - _NAIVE_EPOCH).total_seconds())


# -- conditions ----------------------------------------------------------------------------


class _Translator:
    """Condition trees to durable-rules JSON conditions."""

    def __init__(self, word_ids: Mapping[str, int], regex_ids: Mapping[tuple[str, bool], int],
                 fields: _Fields, span_ids: Mapping[SpanTest, int] | None = None) -> None:
        self.word_ids = word_ids
        self.regex_ids = regex_ids
        self.fields = fields
        #: Positional tests are decided in Python, like regexes: the fact lists those
        #: that hold (``sp``), and the rule tests membership.
        self.span_ids = span_ids or {}

    def holds(self, cond: Condition, *, negate: bool = False) -> Json:
        """The condition that holds exactly when ``cond`` does (does not, with ``negate``):
        ``not`` is pushed down to the leaves, turning ``all`` into ``any`` and back."""
        if isinstance(cond, NotOf):
            return self.holds(cond.item, negate=not negate)
        if isinstance(cond, AllOf | AnyOf):
            if not cond.items:  # all() holds, any() does not
                always = isinstance(cond, AllOf) != negate
                return {"$ex" if always else "$nex": {"tri": 1}}
            parts = [self.holds(c, negate=negate) for c in cond.items]
            return _and(parts) if isinstance(cond, AllOf) != negate else _or(parts)
        if isinstance(cond, TextTest):
            return self._text(cond, negate=negate)
        if isinstance(cond, RegexTest):
            return (_none_of if negate else _any_of)(
                "rx", [self.regex_ids[cond.pattern, cond.negation]])
        if isinstance(cond, SpanTest):
            return (_none_of if negate else _any_of)("sp", [self.span_ids[cond]])
        if isinstance(cond, OutputTest):
            return (_none_of if negate else _any_of)(_output_property(cond.name),
                                                     list(cond.values))
        return self._field(cond, negate=negate)

    def _text(self, cond: TextTest, *, negate: bool) -> Json:
        prop = "p" if cond.negation else "a"
        ids = sorted({self.word_ids[w.folded] for w in cond.words})
        mode = cond.mode
        if negate:
            mode = {"any": "none", "none": "any", "all": "not_all"}[mode]
        if mode == "any":
            return _any_of(prop, ids)
        if mode == "none":
            return _none_of(prop, ids)
        if mode == "all":
            return _and([_any_of(prop, [i]) for i in ids])
        return _or([_none_of(prop, [i]) for i in ids])  # not all: one of them is missing

    def _field(self, cond: FieldTest, *, negate: bool) -> Json:
        prefix = self.fields.prefix[cond.path]
        op, value = cond.op, cond.value
        if op == "exists":
            present = bool(value) != negate
            return {"$ex" if present else "$nex": {prefix + "x": 1}}
        if op == "contains":
            wanted = [_key(v) for v in (value if isinstance(value, tuple) else (value,))]
            return (_none_of if negate else _any_of)(prefix + "c", wanted)
        if op in ("eq", "in", "ne", "not_in"):
            keys = [_key(v) for v in (value if op in ("in", "not_in") else (value,))]
            positive = op in ("eq", "in")
            return (_any_of if positive != negate else _none_of)(prefix + "e", keys)
        bounds = [("$gte", value[0]), ("$lte", value[1])] if op == "between" else [
            ("$" + op, value)]
        kinds: set[str] = set()
        tests: list[tuple[str, Any]] = []
        for operator, bound in bounds:
            order = _order(bound)
            kinds.add(order[0] if order is not None else "")
            tests.append((operator, order[1] if order is not None else None))
        if len(kinds) != 1 or "" in kinds:  # nothing compares with such bounds: never holds
            return {"$ex" if negate else "$nex": {"tri": 1}}
        prop = prefix + kinds.pop()
        if not negate:
            return _and([{operator: {prop: bound}} for operator, bound in tests])
        return _or([{"$nex": {prop: 1}},
                    *({_OPPOSITE[operator]: {prop: bound}} for operator, bound in tests)])


_OPPOSITE = {"$gt": "$lte", "$gte": "$lt", "$lt": "$gte", "$lte": "$gt"}
_OUTPUTS = ("request_type", "category", "subcategory", "severity", "handling")


def _output_property(name: str) -> str:
    return "fl" if name == "flags" else "o_" + name


def _and(items: list[Json]) -> Json:
    return items[0] if len(items) == 1 else {"$and": items}


def _or(items: list[Json]) -> Json:
    return items[0] if len(items) == 1 else {"$or": items}


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i:i + VALUES_PER_TEST] for i in range(0, len(values), VALUES_PER_TEST)]


def _any_of(prop: str, values: Sequence[Any]) -> Json:
    """Some member of the array ``prop`` is one of ``values``."""
    return _or([{"$iany": {prop: _or([{"$eq": {"$i": v}} for v in chunk])}}
                for chunk in _chunks(values)])


def _none_of(prop: str, values: Sequence[Any]) -> Json:
    """No member of the array ``prop`` is one of ``values``. Every array holds a sentinel
    (``SENTINEL_ID``, ``SENTINEL_KEY``) besides its members, as ``$iall`` never holds on
    an empty one: so this is one test, not an ``$or`` with "missing"."""
    return _and([{"$iall": {prop: _and([{"$neq": {"$i": v}} for v in chunk])}}
                 for chunk in _chunks(values)])


def _size(cond: Json) -> tuple[int, int]:
    """(branches, alpha nodes) of a condition once durable-rules spreads its ``$or``s out:
    every branch is a chain of nodes, one per test. Shared nodes are counted again, so the
    node count is an upper bound."""
    if "$or" in cond:
        sizes = [_size(c) for c in cond["$or"]]
        return sum(b for b, _ in sizes), sum(n for _, n in sizes)
    if "$and" in cond:
        branches, nodes = 1, 0
        for b, n in (_size(c) for c in cond["$and"]):
            nodes = nodes * b + n * branches
            branches *= b
        return branches, nodes
    return 1, 1


# -- the engine ----------------------------------------------------------------------------


class _Ruleset:
    """One durable-rules ruleset (a C handle): assert a fact, drain, retract."""

    def __init__(self, engine: Any, name: str, rules: Mapping[str, Json]) -> None:
        self._engine = engine
        text = json.dumps({rule: {"all": [{"m": cond}]} for rule, cond in rules.items()},
                          ensure_ascii=False)
        # Now and then (about once in 360 rulesets the size of the default policy's)
        # durable-rules refuses a valid ruleset with error 102 and takes the very same one
        # when asked again; the cause in its C core was not found.
        # The refusals come in runs when many rulesets were made and dropped in one process
        # (CI's random policies): before trying again, rulesets of dropped policies are
        # deleted (their finalizers run), which ends the run. Under a loaded machine a run
        # once outlasted five attempts (CI, error 102, ERR_PARSE_STRING of its parser):
        # later attempts wait a little longer each (at most about 0.3 s in all).
        for attempt in range(CREATE_ATTEMPTS):
            try:
                self.handle = engine.create_ruleset(f"{name}-{attempt}", text)
                return
            except engine.error as exc:
                failure = exc
                gc.collect()
                if attempt >= 4:
                    time.sleep(0.005 * attempt)
        raise EngineError(f"durable-rules could not create a ruleset in {CREATE_ATTEMPTS} "
                          f"attempts ({failure})")

    def fired(self, fact_json: str) -> set[str]:
        engine = self._engine
        try:
            code, state = engine.assert_fact(self.handle, fact_json)
        except engine.error as exc:
            # a failed assert may leave the fact half stored: retract it now, or its
            # matches would show up in the next complaint's results
            with contextlib.suppress(engine.error):
                engine.retract_fact(self.handle, fact_json)
            raise _limit_error(exc) from None
        if code == _NOT_HANDLED:
            return set()
        if code == _OBSERVED:
            raise EngineError("durable-rules already holds this fact (it was not retracted)")
        names: set[str] = set()
        try:
            result = engine.start_action_for_state(self.handle, state)
            while result:
                for rule, message in json.loads(result[1]).items():
                    if isinstance(message, dict) and message.get("m", {}).get("tri") == 1:
                        names.add(rule)  # not the engine's own state record
                following = engine.complete_and_start_action(self.handle, state)
                result = (None, following) if following else None
        except BaseException:
            engine.abandon_action(self.handle, state)
            raise
        finally:
            engine.retract_fact(self.handle, fact_json)
        return names


def _limit_error(exc: BaseException) -> EngineError:
    code = str(exc).rsplit(" ", 1)[-1]
    return EngineError(_ERRORS.get(code, f"durable-rules failed: {exc}"))


class DurableProgram:
    """Decides every stage on durable-rules; called like the compiled program."""

    def __init__(self, stages: Sequence[StageDef | None], ranks: Mapping[str, int],
                 word_ids: Mapping[str, int], version: str) -> None:
        engine = _c_engine()
        regexes: dict[tuple[str, bool], int] = {}
        paths: dict[str, None] = {}
        spans: dict[SpanTest, int] = {}
        for stage in stages:
            for rule in stage.rules if stage is not None else ():
                for cond in walk(rule.condition):
                    if isinstance(cond, RegexTest):
                        regexes.setdefault((cond.pattern, cond.negation), len(regexes))
                    elif isinstance(cond, FieldTest):
                        paths.setdefault(cond.path)
                    elif isinstance(cond, SpanTest):
                        spans.setdefault(cond, len(spans))
        self._spans = [(i, compile_condition(span, dict(word_ids)).test)
                       for span, i in spans.items()]
        self._fields = _Fields(list(paths))
        if 6 * len(paths) + 13 > MAX_FACT_PROPERTIES:
            raise EngineError(f"the policy tests {len(paths)} record fields; a durable-rules "
                              f"fact holds at most {MAX_FACT_PROPERTIES} properties")
        # decided in Python once per complaint, as the compiled engine does (negation)
        self._regexes = [(i, compile_condition(RegexTest(p, n), {}).test)
                         for (p, n), i in regexes.items()]
        translate = _Translator(word_ids, regexes, self._fields, spans)
        self._stages: list[tuple[StageDef, list[_Ruleset]] | None] = []
        for number, stage in enumerate(stages):
            if stage is None:
                self._stages.append(None)
                continue
            shards = self._shards(stage, translate)
            rulesets = [_Ruleset(engine, f"triage-{version}-{number}-{i}-{uuid.uuid4().hex}", shard)
                        for i, shard in enumerate(shards)]
            self._stages.append((stage, rulesets))
        self._ranks = dict(ranks)
        self._tallies = {stage.name: compile_tally(stage) for stage in stages
                         if stage is not None and stage.scored}
        self._lock = threading.Lock()
        handles = [r.handle for entry in self._stages if entry for r in entry[1]]
        weakref.finalize(self, _delete, engine, handles)

    @staticmethod
    def _shards(stage: StageDef, translate: _Translator) -> list[dict[str, Json]]:
        """The stage's rules in rulesets of at most ``MAX_ALPHA_MATCHES`` alpha nodes, so
        that no complaint can match more than the engine's stack holds (error 303)."""
        shards: list[dict[str, Json]] = [{}]
        size = 0
        for index, rule in enumerate(stage.rules):
            cond = translate.holds(rule.condition)
            branches, nodes = _size(cond)
            if nodes > MAX_ALPHA_MATCHES:
                raise EngineError(
                    f"rule {rule.id} ({rule.file}:{rule.line}) becomes {branches} alternatives "
                    f"with {nodes} tests on durable-rules; one ruleset holds at most "
                    f"{MAX_ALPHA_MATCHES} (its MAX_STACK_SIZE): split the rule into several")
            if size + nodes > MAX_ALPHA_MATCHES:
                shards.append({})
                size = 0
            shards[-1][f"r{index}"] = cond
            size += nodes
        return [s for s in shards if s]

    def __call__(self, ctx: Context, given: bool) -> Fired:
        base: Json = {"tri": 1, **self._fields.properties(ctx)}
        base["p"] = [SENTINEL_ID, *sorted(ctx.present)]
        base["a"] = [SENTINEL_ID, *sorted(ctx.all)]
        base["rx"] = [SENTINEL_ID, *(i for i, holds in self._regexes if holds(ctx))]
        base["sp"] = [SENTINEL_ID, *(i for i, holds in self._spans if holds(ctx))]
        outputs = ctx.outputs
        ctx.flags = frozenset()
        results: list[Any] = []
        held: dict[str, list[int]] = {}
        with self._lock:
            for entry in self._stages:
                if entry is None:
                    results.append([])
                    continue
                stage, rulesets = entry
                if stage.name == "request_type" and given:
                    results.append(-2)
                    continue
                fact = dict(base)
                for name in _OUTPUTS:
                    value = outputs.get(name)
                    fact["o_" + name] = [SENTINEL_KEY, *([value] if isinstance(value, str)
                                                         else [])]
                fact["fl"] = [SENTINEL_KEY, *sorted(ctx.flags)]
                fact_json = json.dumps(fact, ensure_ascii=False)
                fired = sorted(int(name[1:]) for ruleset in rulesets
                               for name in ruleset.fired(fact_json))
                results.append(self._apply(stage, fired, ctx, held))
        return Fired._make([*results, held or NO_HELD])

    def _apply(self, stage: StageDef, fired: list[int], ctx: Context,
               held: dict[str, list[int]]) -> Any:
        """The stage's hit policy on the rules that fired; sets the outputs like the
        compiled program does."""
        rules = stage.rules
        if stage.scored:  # the first decisive rule that fired, or the tally of the rest
            decisive = [i for i in fired if rules[i].decisive]
            if decisive:
                chosen = decisive[0]
            else:
                held[stage.name] = [i for i in fired if not rules[i].decisive]
                chosen = self._tallies[stage.name](held[stage.name])
            ctx.outputs.update(rules[chosen].outputs if chosen >= 0 else stage.default)
            return chosen
        if stage.hit == "first":
            chosen = fired[0] if fired else -1
            ctx.outputs.update(rules[chosen].outputs if fired else stage.default)
            return chosen
        if stage.hit == "collect":
            ctx.flags = (frozenset().union(*(rules[i].outputs.get("flags", ()) for i in fired))
                         if fired else frozenset(stage.default.get("flags", ())))
        elif stage.hit == "max":
            name = STAGE_OUTPUTS[stage.name][0]
            ctx.outputs[name] = (max((rules[i].outputs[name] for i in fired),
                                     key=self._ranks.__getitem__)
                                 if fired else stage.default[name])
        return fired


def _delete(engine: Any, handles: list[int]) -> None:
    for handle in handles:
        with contextlib.suppress(Exception):  # at interpreter exit there is nothing to free
            engine.delete_ruleset(handle)


def durable_program(stages: Sequence[StageDef | None], ranks: Mapping[str, int],
                    word_ids: Mapping[str, int], version: str) -> Program:
    """The durable-rules program of a policy; ``EngineError`` when it cannot be built."""
    why = durable_available()
    if why is not None:
        raise EngineError(why)
    program: Callable[[Context, bool], Fired] = DurableProgram(stages, ranks, word_ids, version)
    return program
