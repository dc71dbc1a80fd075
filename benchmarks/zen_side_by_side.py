"""Side by side: the compiled engine, durable-rules and GoRules zen-engine on one policy.

``python benchmarks/zen_side_by_side.py [--count N] [--repeat R] [--rules 20 100 500]``
writes the generated policies of ``scaled_policy.py``, translates each into a zen-engine
decision graph (JSON Decision Model), and decides N synthetic complaints (default 1,000,
seed 0) with each engine, interleaved, R times (default 3): complaints/s, p50 and p99 of
each repetition, their medians, the ratios (compiled / other), and whether every
classification (request_type, flags, category, subcategory, severity, handling, owner,
escalation chain) is identical on every record.

What each engine is given and what is timed, per complaint (the raw record dict):

- compiled: ``Policy.triage(record)``. The generated policies have no deadlines or
  scripts, so this is classification: validation (pydantic), folding, the keyword and
  regex pass with negation, the rules, the ``Decision``.
- durable: the same call on ``load_policy(path, engine="durable")``: the same text layer,
  the rules on durable-rules' Rete network.
- zen: ``ZenTriage.decide(record)``: the same validation, folding and keyword/regex pass
  of this library (negation, as ZEN expressions cannot express it), the record fields
  turned into typed properties (so comparisons keep Python's semantics), one
  ``ZenEngine.evaluate(key, input)`` of the graph, and the outputs read back (owner's
  escalation chain looked up in Python). "zen evaluate only" times the
  ``ZenEngine.evaluate`` call alone, on inputs built beforehand.

The graph: an input node, one decision table per stage (hit policy ``first`` in the
policy's priority order for request_type, category, handling, owner; ``collect`` for
flags, followed by an expression node that flattens them; severity, a ``max`` stage, as a
``first`` table with its rules sorted by rank, highest first), ``passThrough`` so that
later stages read earlier outputs, an output node. Each rule is one row whose only input
cell is a ZEN expression: ``some(p, # in [3, 17])`` for a text test (word ids of the
words found and not negated, ``a`` for ``negation: false``), ``2 in rxp`` for a regex
(``rx`` with ``negation: false``),
``f0x != null and f0n >= 2`` for field tests, ``category in ["cat_001"]`` for outputs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaled_policy import write_scaled_policy
from synthetic import generate

import triage
from triage.complaint import parse_complaint
from triage.engine.context import Context
from triage.engine.durable import _Fields, _key, _order, durable_available
from triage.language.conditions import (
    AllOf,
    AnyOf,
    Condition,
    FieldTest,
    NotOf,
    OutputTest,
    RegexTest,
    TextTest,
    walk,
)
from triage.text.folding import fold

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STAGES = ("request_type", "flags", "category", "severity", "handling", "owner")
#: Output fields each stage may set, as the library's decision reads them.
STAGE_FIELDS = {"request_type": ("request_type",), "category": ("category", "subcategory"),
                "severity": ("severity",), "handling": ("handling",),
                "owner": ("owner", "escalation")}
Classification = tuple[Any, ...]


def zen_available() -> str | None:
    try:
        import zen  # noqa: F401, PLC0415
    except ImportError:
        return "zen-engine is not installed: pip install 'triage[bench]' (or zen-engine)"
    return None


def _lit(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Expr:
    """Condition trees to ZEN expressions over the input ``ZenTriage.prepare`` builds."""

    def __init__(self, word_ids: dict[str, int], regex_ids: dict[str, int],
                 fields: _Fields) -> None:
        self.word_ids = word_ids
        self.regex_ids = regex_ids
        self.fields = fields

    def of(self, cond: Condition) -> str:
        if isinstance(cond, NotOf):
            return f"not ({self.of(cond.item)})"
        if isinstance(cond, AllOf | AnyOf):
            if not cond.items:
                return "true" if isinstance(cond, AllOf) else "false"
            joiner = " and " if isinstance(cond, AllOf) else " or "
            return "(" + joiner.join(f"({self.of(c)})" for c in cond.items) + ")"
        if isinstance(cond, TextTest):
            prop = "p" if cond.negation else "a"
            ids = sorted({self.word_ids[w.folded] for w in cond.words})
            if cond.mode == "any":
                return f"some({prop}, # in {ids})"
            if cond.mode == "none":
                return f"not some({prop}, # in {ids})"
            return "(" + " and ".join(f"{i} in {prop}" for i in ids) + ")"  # all
        if isinstance(cond, RegexTest):
            return f"{self.regex_ids[cond.pattern]} in {'rxp' if cond.negation else 'rx'}"
        if isinstance(cond, OutputTest):
            if cond.name == "flags":
                return f"some(fl, # in {_lit(list(cond.values))})"
            return f"{cond.name} in {_lit(list(cond.values))}"
        if isinstance(cond, FieldTest):
            return self._field(cond)
        raise NotImplementedError(f"no ZEN translation for {type(cond).__name__}")

    def _field(self, cond: FieldTest) -> str:
        prefix = self.fields.prefix[cond.path]
        op, value = cond.op, cond.value
        if op == "exists":
            return f"{prefix}x {'!=' if value else '=='} null"
        if op == "contains":
            wanted = [_key(v) for v in (value if isinstance(value, tuple) else (value,))]
            return f"some({prefix}c, # in {_lit(wanted)})"
        if op in ("eq", "in", "ne", "not_in"):
            keys = [_key(v) for v in (value if op in ("in", "not_in") else (value,))]
            test = f"some({prefix}e, # in {_lit(keys)})"
            return test if op in ("eq", "in") else f"not {test}"
        bounds = [(">=", value[0]), ("<=", value[1])] if op == "between" else [
            ({"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op], value)]
        orders = [_order(bound) for _, bound in bounds]
        kinds = {o[0] if o is not None else "" for o in orders}
        if len(kinds) != 1 or "" in kinds:
            return "false"  # nothing compares with such bounds
        prop = prefix + kinds.pop()
        tests = " and ".join(f"{prop} {symbol} {_lit(order[1])}"
                             for (symbol, _), order in zip(bounds, orders, strict=True)
                             if order is not None)
        return f"({prop} != null and {tests})"


def _node(node_id: str, kind: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": kind, "name": node_id,
                            "position": {"x": 0, "y": 0}}
    if content is not None:
        node["content"] = content
    return node


def _table(stage: str, hit: str, rows: Sequence[tuple[str, dict[str, Any]]],
           outputs: Sequence[str], output_path: str | None = None) -> dict[str, Any]:
    """One decision table with a single expression input column."""
    content: dict[str, Any] = {
        "hitPolicy": hit, "passThrough": True,
        "inputs": [{"id": f"{stage}-in", "name": "when"}],
        "outputs": [{"id": f"{stage}-o-{name}", "name": name, "field": name}
                    for name in outputs],
        "rules": [{"_id": f"{stage}-r{i}", f"{stage}-in": when,
                   **{f"{stage}-o-{name}": (_lit(values[name]) if name in values else "")
                      for name in outputs}}
                  for i, (when, values) in enumerate(rows)],
    }
    if output_path:
        content["outputPath"] = output_path
    return _node(stage, "decisionTableNode", content)


def translate(policy: triage.Policy) -> dict[str, Any]:
    """The JSON Decision Model of a policy's classification stages."""
    model = policy._model
    words = dict(policy._word_ids)
    regexes: dict[str, int] = {}
    paths: dict[str, None] = {}
    for stage in model.stages.values():
        if stage.scored:
            raise NotImplementedError(f"stage {stage.name} is scored")
        for rule in stage.rules:
            for cond in walk(rule.condition):
                if isinstance(cond, RegexTest):
                    regexes.setdefault(cond.pattern, len(regexes))
                elif isinstance(cond, FieldTest):
                    paths.setdefault(cond.path)
    fields = _Fields(list(paths))
    expr = _Expr(words, regexes, fields)
    ranks = {v: i for i, v in enumerate(model.taxonomy["severity"])}
    nodes = [_node("in", "inputNode")]
    for name in STAGES:
        stage = model.stages.get(name)
        if stage is None:
            continue
        rules = list(stage.rules)
        if name == "flags":
            rows = [(expr.of(r.condition), {"hit": list(r.outputs.get("flags", ()))})
                    for r in rules]
            nodes.append(_table(name, "collect", rows, ["hit"], "flag_hits"))
            default = _lit(list(stage.default.get("flags", ())))
            nodes.append(_node("flags-union", "expressionNode", {"passThrough": True,
                "expressions": [{"id": "fl", "key": "fl", "value":
                                 f"len(flag_hits) > 0 ? flatMap(flag_hits, #.hit) : {default}"}]}))
            continue
        if stage.hit == "max":  # the highest rank that holds: first hit in rank order
            rules.sort(key=lambda r: -ranks[r.outputs["severity"]])
        elif stage.hit != "first":
            raise NotImplementedError(f"stage {name} hit {stage.hit}")
        if any("escalate" in r.outputs for r in rules):
            raise NotImplementedError("owner rules with escalate")
        rows = [(expr.of(r.condition), dict(r.outputs)) for r in rules]
        if name == "request_type":  # a given request type skips the stage
            rows.insert(0, ("given != null", {}))
        rows.append(("", dict(stage.default)))
        table = _table(name, "first", rows, STAGE_FIELDS[name])
        if name == "request_type":
            table["content"]["rules"][0]["request_type-o-request_type"] = "given"
        nodes.append(table)
    nodes.append(_node("out", "outputNode"))
    edges = [{"id": f"e{i}", "sourceId": a["id"], "targetId": b["id"], "type": "edge"}
             for i, (a, b) in enumerate(pairwise(nodes))]
    return {"nodes": nodes, "edges": edges, "_fields": list(paths), "_regexes": list(regexes)}


class ZenTriage:
    """A policy's classification on zen-engine, fed by this library's text layer."""

    KEY = "triage"

    def __init__(self, policy: triage.Policy) -> None:
        import zen  # noqa: PLC0415

        graph = translate(policy)
        self.fields = _Fields(graph.pop("_fields"))
        patterns = graph.pop("_regexes")
        # the keyword pass reports regex i of policy_literals as bit i of Found.regexes
        self.regex_bits = [(i, 1 << bit) for i, bit in enumerate(_regex_bits(policy, patterns))]
        self.index = policy._index
        self.tz = policy.timezone
        self.graph = graph
        self.content = json.dumps(graph, ensure_ascii=False)
        self.engine = zen.ZenEngine({"loader": {"type": "static",
                                                "content": {self.KEY: graph}}})
        self.chains = {name: tuple(r.role for r in chain)
                       for name, chain in policy._escalation.items()}

    def prepare(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The engine's input: what the library's own text layer and fields give."""
        record = parse_complaint(raw)
        folded = fold(record.text)
        found = self.index.find(folded)
        ctx = Context(record, folded, self.index, found, self.tz, NOW)
        data = self.fields.properties(ctx)
        data["p"] = sorted(found.present)
        data["a"] = sorted(found.all)
        mask = found.regexes
        data["rx"] = [i for i, bit in self.regex_bits if mask & bit]
        data["rxp"] = [i for i, bit in self.regex_bits if mask & bit and ctx.regex_stands(bit)]
        data["given"] = record.request_type.value if record.request_type is not None else None
        return data

    def evaluate(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.engine.evaluate(self.KEY, data)["result"]

    def read(self, out: dict[str, Any]) -> Classification:
        owner = out["owner"]
        escalation = out.get("escalation")
        chain = tuple(escalation) if escalation is not None else self.chains[owner]
        return (out["request_type"], tuple(sorted(set(out.get("fl") or ()))), out["category"],
                out.get("subcategory"), out["severity"], out["handling"], owner, chain)

    def decide(self, raw: dict[str, Any]) -> Classification:
        return self.read(self.evaluate(self.prepare(raw)))


def _regex_bits(policy: triage.Policy, patterns: list[str]) -> list[int]:
    """The bit of each of ``patterns`` in ``Found.regexes`` (policy_literals' order)."""
    from triage.engine.keywords import policy_literals  # noqa: PLC0415

    order = policy_literals(policy._model).patterns
    return [order[p] for p in patterns]


def classification(decision: triage.Decision) -> Classification:
    return (decision.request_type, tuple(decision.flags), decision.category,
            decision.subcategory, decision.severity, decision.handling, decision.owner.role,
            tuple(r.role for r in decision.escalation))


def _timed(call: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[Any], list[float]]:
    outputs, times = [], []
    clock = time.perf_counter
    for item in items:
        start = clock()
        out = call(item)
        times.append(clock() - start)
        outputs.append(out)
    return outputs, times


def _stats(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return len(times) / sum(times), ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]


def measure(name: str, path: Path, records: list[dict[str, Any]], repeat: int,
            with_durable: bool) -> dict[str, Any]:
    compiled = triage.load_policy(path)
    durable = triage.load_policy(path, engine="durable") if with_durable else None
    zen_triage = ZenTriage(compiled)
    inputs = [zen_triage.prepare(r) for r in records]
    engines: dict[str, Callable[[Any], Any]] = {
        "compiled": lambda r: classification(compiled.triage(r, now=NOW)),
        "zen": zen_triage.decide,
        "zen evaluate only": zen_triage.evaluate,
    }
    if durable is not None:
        engines["durable"] = lambda r: classification(durable.triage(r, now=NOW))
    for call in engines.values():  # warm-up
        for item in (inputs if call is zen_triage.evaluate else records)[:200]:
            call(item)
    runs: dict[str, list[tuple[float, float, float]]] = {e: [] for e in engines}
    outputs: dict[str, list[Any]] = {}
    order = list(engines)
    for rep in range(repeat):
        for engine in order[rep % len(order):] + order[:rep % len(order)]:  # interleaved
            items = inputs if engine == "zen evaluate only" else records
            out, times = _timed(engines[engine], items)
            outputs.setdefault(engine, out)
            runs[engine].append(_stats(times))
    zen_evaluated = [zen_triage.read(o) for o in outputs.pop("zen evaluate only")]
    reference = outputs["compiled"]
    differences: dict[str, list[int]] = {}
    for engine, out in [*outputs.items(), ("zen evaluate only", zen_evaluated)]:
        differences[engine] = [i for i, (a, b) in enumerate(zip(reference, out, strict=True))
                               if a != b]
    return {"name": name, "rules": compiled.rule_count, "runs": runs,
            "differences": differences, "reference": reference, "outputs": outputs,
            "records": records}


def report(result: dict[str, Any]) -> None:
    runs = result["runs"]
    medians = {e: tuple(statistics.median(r[k] for r in rs) for k in range(3))
               for e, rs in runs.items()}
    base = medians["compiled"][0]
    for engine in ("compiled", "durable", "zen", "zen evaluate only"):
        if engine not in medians:
            continue
        rate, p50, p99 = medians[engine]
        wrong = result["differences"][engine]
        same = len(result["records"]) - len(wrong)
        ratio = "" if engine == "compiled" else f"{base / rate:>7.1f}x"
        reps = " ".join(f"{r[0]:,.0f}" for r in runs[engine])
        print(f"| {result['name']} | {engine} | {rate:,.0f} | {p50 * 1e6:,.0f} | "
              f"{p99 * 1e6:,.0f} | {ratio} | {same:,} of {len(result['records']):,} | {reps} |")
    for engine, wrong in result["differences"].items():
        for i in wrong[:3]:
            print(f"  DIFFERENT ({engine}) record {result['records'][i]['id']}: "
                  f"compiled {result['reference'][i]} vs "
                  f"{result['outputs'].get(engine, ['(evaluate only)'] * (i + 1))[i]}")


def decision_evaluate_cost(path: Path, records: list[dict[str, Any]]) -> tuple[float, float]:
    """µs per call of ``ZenEngine.evaluate(key, ...)`` and of the decision object's own
    ``ZenDecision.evaluate(...)`` on the same inputs (the latter starts a runtime per call
    in zen-engine 2.1)."""
    zen_triage = ZenTriage(triage.load_policy(path))
    decision = zen_triage.engine.create_decision(zen_triage.content)
    inputs = [zen_triage.prepare(r) for r in records]
    costs = []
    for call in (zen_triage.evaluate, decision.evaluate):
        for item in inputs[:20]:
            call(item)
        start = time.perf_counter()
        for item in inputs:
            call(item)
        costs.append((time.perf_counter() - start) / len(inputs) * 1e6)
    return costs[0], costs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rules", type=int, nargs="*", default=[20, 100, 500])
    args = parser.parse_args()
    why = zen_available()
    if why:
        raise SystemExit(why)
    why_durable = durable_available()
    if why_durable:
        print(f"durable-rules left out: {why_durable}")
    import zen  # noqa: PLC0415

    version = __import__("importlib.metadata").metadata.version("zen-engine")
    records = generate(args.count, seed=0)
    print(f"Python {sys.version.split()[0]}, zen-engine {version} ({zen.__name__}); "
          f"{args.count:,} synthetic complaints, {args.repeat} interleaved repetitions; "
          "one thread; medians of the repetitions")
    print("| policy | engine | complaints/s | p50 µs | p99 µs | compiled / this | "
          "identical | each repetition /s |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rules in args.rules:
            path = write_scaled_policy(Path(folder) / f"scaled-{rules}", rules)
            report(measure(f"scaled-{rules}", path, records, args.repeat, not why_durable))
        path = Path(folder) / f"scaled-{args.rules[0]}"
        engine_call, decision_call = decision_evaluate_cost(path, records[:300])
        print(f"\nzen call styles, scaled-{args.rules[0]}, 300 inputs: "
              f"ZenEngine.evaluate(key, input) {engine_call:,.0f} µs per call; "
              f"ZenDecision.evaluate(input) {decision_call:,.0f} µs per call")


if __name__ == "__main__":
    main()
