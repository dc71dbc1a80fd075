"""The front door: ``load_policy`` runs load -> validate -> compile, ``Policy`` evaluates.

A ``Policy`` is built once and never changes: it is safe to share between threads, and
every ``Decision`` it makes records the policy's content hash (``version``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from .complaint import Complaint, blank_line, parse_complaint
from .deadlines.calendar import BusinessCalendar
from .deadlines.planner import CalendarChoice, Deadline, DeadlinePlanner
from .decision import Decision, Explanation, HistoryUse, Reply, RoleRef, new_decision
from .engine.codegen import Fired, Program, compile_program
from .engine.conditions import field_reader
from .engine.context import Context
from .engine.durable import durable_program
from .engine.keywords import KeywordIndex, policy_literals
from .engine.stages import (
    CompiledStage,
    compile_stages,
    explain_fired,
    fired_ids,
    stage_scores,
)
from .errors import (
    CalendarError,
    ComplaintError,
    DecisionError,
    EngineError,
    FieldIssue,
    Problem,
    RecordError,
    RenderError,
    TriageError,
    did_you_mean,
)
from .language.conditions import reads_history
from .language.loader import load_files
from .language.schema import STAGES
from .language.validate import PolicyModel, validate_policy
from .replies.guard import Finding
from .replies.render import ReplyWriter
from .status import CaseStatus, Event, case_status
from .text.folding import fold
from .text.layout import Reading
from .text.regex import RegexSet


class HistorySource(Protocol):
    """What ``Policy.triage(history=...)`` asks of a case store (``triage.history.CaseStore``
    is one): the customer's history at a moment, on a topic, for a team."""

    def history_facts(self, customer: str, *, at: datetime, category: str | None = None,
                      subcategory: str | None = None, product: str | None = None,
                      team: str | None = None, window_days: int = 30,
                      team_subcategories: tuple[str, ...] = ...) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Facts:
    """The ``history.*`` fields as rules read them (``ctx.history``)."""

    open_cases_same_topic: int
    complaints_30d: int
    rejected_answers: int
    team_week_count: int
    first_case_level: int | None


#: Longest complaint text accepted (characters), unless ``load_policy`` says otherwise.
DEFAULT_MAX_TEXT_LENGTH = 1_000_000

Record = Complaint | Mapping[str, Any] | str | bytes
#: The engines that evaluate a policy's rules.
Engine = Literal["compiled", "durable"]


def bundled_policy_path() -> Path:
    """Where the default policy (``rules/``) is: inside the installed package, or the repo."""
    packaged = resources.files("triage").joinpath("_bundled", "rules")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "rules"


def load_policy(path: str | Path | None = None, *,
                max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
                engine: Engine = "compiled") -> Policy:
    """Load, validate and compile a policy: a directory of YAML files, or one file.

    ``None`` loads the bundled default policy. Raises ``PolicyError`` listing every
    problem found, each with file, line, column and a hint. ``engine="durable"``
    evaluates the rules on durable-rules instead of the compiled program (a second
    opinion, much slower; docs/engines.md); ``EngineError`` says why when it cannot.
    """
    if engine not in ("compiled", "durable"):
        raise EngineError(f"unknown engine {engine!r}: use 'compiled' or 'durable'")
    root = bundled_policy_path() if path is None else Path(path)
    loaded = load_files(root)
    model = validate_policy(loaded)
    return Policy(model, root, max_text_length=max_text_length, engine=engine)


class Policy:
    """A compiled, immutable policy. Build it with ``load_policy``."""

    __slots__ = (
        "_domains",
        "_engine",
        "_escalation",
        "_index",
        "_max_text",
        "_model",
        "_owners",
        "_planner",
        "_program",
        "_reading",
        "_reads_history",
        "_stages",
        "_tz",
        "_word_ids",
        "_writer",
        "path",
    )

    _model: PolicyModel
    _domains: frozenset[str]
    _engine: Engine
    _reads_history: bool
    _word_ids: MappingProxyType[str, int]
    _index: KeywordIndex
    _stages: MappingProxyType[str, CompiledStage]
    _tz: ZoneInfo
    _max_text: int
    _program: Program
    _reading: Reading
    _planner: DeadlinePlanner
    _writer: ReplyWriter
    _owners: MappingProxyType[str, RoleRef]
    _escalation: MappingProxyType[str, tuple[RoleRef, ...]]
    path: Path

    def __init__(self, model: PolicyModel, path: Path, *,
                 max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
                 engine: Engine = "compiled") -> None:
        words, patterns, exceptions = policy_literals(model)
        setter = object.__setattr__
        negation = model.meta.negation
        cues = [fold(c) for c in negation.cues] if negation.enabled else []
        setter(self, "_model", model)
        setter(self, "path", path)
        setter(self, "_word_ids", MappingProxyType(words))
        setter(self, "_index", KeywordIndex(list(words), cues, negation.window,
                                            RegexSet(list(patterns)) if patterns else None,
                                            exceptions))
        setter(self, "_reading", Reading({k: tuple(v) for k, v in model.meta.reading.items()}))
        setter(self, "_stages", MappingProxyType(compile_stages(model, words)))
        ranks = {v: i for i, v in enumerate(model.taxonomy["severity"])}
        in_order = [model.stages.get(name) for name in STAGES]
        setter(self, "_engine", engine)
        setter(self, "_reads_history", any(reads_history(rule.condition)
                                           for stage in model.stages.values()
                                           for rule in stage.rules))
        setter(self, "_program", durable_program(in_order, ranks, words, model.version)
               if engine == "durable" else compile_program(in_order, ranks, words, patterns))
        choices = {name: CalendarChoice(c.field, MappingProxyType(dict(c.cases)), c.default,
                                        field_reader(c.field))
                   for name, c in model.calendar_choices.items()}
        setter(self, "_writer", ReplyWriter(
            model.scripts, model.taxonomy, (role.name for role in model.roles.values()),
            model.meta.company, model.meta.hotline, model.meta.neutral_address))
        setter(self, "_planner", DeadlinePlanner(
            model.calendars, choices, model.meta.default_calendar,
            model.taxonomy.get("milestones", {}), model.calendar_labels))
        setter(self, "_tz", ZoneInfo(model.meta.timezone))
        setter(self, "_max_text", max_text_length)
        setter(self, "_domains", frozenset(model.taxonomy.get("domain", {})))
        owners = {name: RoleRef(name, spec.name) for name, spec in model.roles.items()}
        setter(self, "_owners", MappingProxyType(owners))
        chains: dict[str, tuple[RoleRef, ...]] = {}
        for name in model.roles:
            chain: list[RoleRef] = []
            current = model.roles[name].escalates_to
            while current is not None and len(chain) < len(model.roles):
                chain.append(owners[current])
                current = model.roles[current].escalates_to
            chains[name] = tuple(chain)
        setter(self, "_escalation", MappingProxyType(chains))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Policy is immutable; load a new one to change it")

    def __repr__(self) -> str:
        return f"<Policy {self.name!r} version={self.version} rules={self.rule_count}>"

    @property
    def engine(self) -> Engine:
        """Which engine evaluates the rules: ``compiled`` (default) or ``durable``."""
        return self._engine

    @property
    def max_text_length(self) -> int:
        """The longest complaint text this policy accepts (``load_policy``'s limit)."""
        return self._max_text

    @property
    def version(self) -> str:
        """Content hash of the policy files: recorded in every decision."""
        return self._model.version

    @property
    def name(self) -> str:
        return self._model.meta.name

    @property
    def timezone(self) -> ZoneInfo:
        return self._tz

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """The policy's working calendars by name (for business-time KPIs of its cases)."""
        return self._planner.calendars

    @property
    def rule_count(self) -> int:
        return sum(len(s.rules) for s in self._model.stages.values())

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems that did not stop the load (e.g. rules tied on priority)."""
        return self._model.warnings

    @property
    def taxonomy(self) -> Mapping[str, Mapping[str, str]]:
        """Each output's values and their Chinese labels, as the policy defines them."""
        return MappingProxyType({k: MappingProxyType(v)
                                 for k, v in self._model.taxonomy.items()})

    def label(self, kind: str, value: str) -> str:
        """The Chinese label of an output value (``label('category', 'service')``)."""
        if kind in ("owner", "role"):
            role = self._owners.get(value)
            return role.name if role else value
        return self._model.taxonomy.get(kind, {}).get(value, value)

    def triage(self, complaint: Record, *, now: datetime | None = None,
               history: HistorySource | None = None) -> Decision:
        """Decide one complaint. ``now`` stands in for ``received_at`` when the record has none.

        With ``history`` (a ``triage.history.CaseStore``), rules on ``history.*`` facts are
        decided on the customer's (``customer.id``) earlier cases: the complaint is decided
        once without them, which gives the topic (category, subcategory, product) and the
        team (the owner) the facts are counted on, then again with them; the decision's
        ``history`` names the facts and cases used.

        Raises ``ComplaintError`` when the record is invalid, ``CalendarError`` when a
        deadline needs a year for which a calendar set to ``beyond_data: error`` has no
        holiday data, ``RenderError`` (template file and line) when the chosen reply
        template fails for this complaint, and ``DecisionError`` for any other failure:
        never a bare Python exception.
        """
        return self._triage(complaint, now, history)[0]

    def _triage(self, complaint: Record, now: datetime | None,
                history: HistorySource | None = None) -> tuple[Decision, Context]:
        """``triage``, and the context the rules were tested in (for ``_holding``)."""
        record = parse_complaint(complaint)  # type: ignore[arg-type]
        domain = record.product.domain if record.product is not None else None
        if domain is not None and self._domains and domain not in self._domains:
            hint = did_you_mean(domain, self._domains) or "domains: " + ", ".join(
                sorted(self._domains))
            raise ComplaintError([FieldIssue(
                "product.domain", f"'{domain}' is not a domain of this policy; {hint} (leave "
                "it out for a product the policy has no domain for)")], complaint_id=record.id)
        if len(record.text) > self._max_text:
            raise ComplaintError(
                [FieldIssue("text", f"text has {len(record.text):,} characters; this policy "
                                    f"accepts at most {self._max_text:,}")],
                complaint_id=record.id)
        try:
            ctx, trace = self._run(record, now)
            used = None
            if history is not None and self._reads_history:
                facts, used = self._history_facts(history, record, ctx, trace)
                if facts is not None:
                    ctx, trace = self._run(record, now, facts)
            return self._decide(record, ctx, trace, used), ctx
        except TriageError:
            raise
        except Exception as exc:  # a failure no field of the record explains
            raise DecisionError(f"deciding complaint {record.id!r} failed: "
                                f"{type(exc).__name__}: {exc}") from exc

    def _holding(self, complaint: Record, *, now: datetime | None = None
                 ) -> tuple[Decision, dict[str, list[int]], Context]:
        """The decision, for each stage the indexes of all its rules that hold (not only
        those the hit policy picked) given the earlier stages' outputs as decided, and the
        context they were tested in. For the authoring tools (fit, eval, why-not); raises
        as ``triage`` does."""
        decision, ctx = self._triage(complaint, now)
        holding = {name: [i for i, rule in enumerate(stage.rules) if rule.test(ctx)]
                   for name, stage in self._stages.items()}
        return decision, holding, ctx

    def _history_facts(self, history: HistorySource, record: Complaint, ctx: Context,
                       trace: Fired) -> tuple[_Facts | None, HistoryUse | None]:
        """The ``history.*`` facts of a complaint as the run without them decided it (its
        topic and team: only the outputs, no deadlines or reply), and what the decision
        records of them; None without a customer id to match on."""
        customer = record.customer.id if record.customer is not None else None
        if not customer:
            return None, None
        spec = self._model.meta.history
        product = record.product.model if record.product is not None else None
        topic = {"category": ctx.outputs["category"],
                 "subcategory": ctx.outputs.get("subcategory"), "product": product}
        team = self._owner(ctx, trace)[0]
        raw = history.history_facts(
            customer, at=ctx.received_at(), window_days=spec.window_days, team=team,
            team_subcategories=tuple(spec.team_subcategories),
            **{k: (v if k in spec.topic else None) for k, v in topic.items()})
        facts = _Facts(raw.open_cases_same_topic, raw.complaints_30d, raw.rejected_answers,
                       raw.team_week_count, raw.first_case_escalation_level)
        cases = tuple(raw.case_ids_same_topic)
        used = HistoryUse(customer, tuple((name, getattr(facts, name))
                                          for name in _Facts.__dataclass_fields__),
                          cases, cases[0] if cases else None, team, product,
                          record.product.domain if record.product is not None else None)
        return facts, used

    def _run(self, record: Complaint, now: datetime | None,
             facts: _Facts | None = None) -> tuple[Context, Fired]:
        """The program run on one complaint: its context, and the rules that fired."""
        folded = fold(record.text)
        index = self._index
        ctx = Context(record, folded, index, index.find(folded), self._tz, now, self._reading)
        ctx.history = facts
        given = record.request_type
        if given is not None:
            ctx.outputs["request_type"] = given.value
        return ctx, self._program(ctx, given is not None)

    def _decide(self, record: Complaint, ctx: Context, trace: Fired,
                used: HistoryUse | None = None) -> Decision:
        """The decision of a program run (``_run``): deadlines, reply, explanation."""
        outputs = ctx.outputs
        owner, chain = self._owner(ctx, trace)
        deadlines: tuple[Deadline, ...] = ()
        warnings: tuple[str, ...] = ()
        timed = self._stages.get("deadlines")
        if timed is not None:
            specs = [(timed.rules[i].info.rule_id, timed.rules[i].info.outputs["deadlines"])
                     for i in trace.deadlines]
            specs.append((timed.default_hit.rule_id, timed.default_hit.outputs["deadlines"]))
            deadlines, warnings = self._planner.plan(specs, ctx, ctx.received_at(),
                                                     tuple(trace.deadlines))
        reply = None
        script = outputs.get("script")
        if script is not None:
            reply = self._writer.write(script, record, ctx.received_at(), outputs,
                                       self._owners[owner], deadlines)
        return new_decision(  # the fields of Decision, in order
            record.id, outputs["request_type"], outputs["handling"], outputs["category"],
            outputs.get("subcategory"), outputs["severity"], tuple(sorted(ctx.flags)),
            self._owners[owner], chain,
            Explanation(build=partial(explain_fired, self._stages, trace, ctx),
                        ids=partial(fired_ids, self._stages, trace, ctx)),
            self._model.version, deadlines, reply, warnings,
            ctx.received_at() if ctx.received_source else None, ctx.received_source,
            stage_scores(self._stages, trace.held) if trace.held else trace.held, used)

    def _owner(self, ctx: Context, trace: Fired) -> tuple[str, tuple[RoleRef, ...]]:
        """The owner role and its escalation chain as decided: the owner rule's (or the
        owner the other rules give, for a rule that only escalates), raised by
        ``escalate`` levels along the chain."""
        outputs = ctx.outputs
        owner = outputs.get("owner") or self._base_owner(ctx, trace.owner)
        escalation = outputs.get("escalation")
        chain = (tuple(self._owners[r] for r in escalation) if escalation is not None
                 else self._escalation[owner])
        raise_by = outputs.get("escalate")
        if raise_by is not None and chain:
            if raise_by == "first_case":
                level = ctx.history.first_case_level if ctx.history is not None else None
                raise_by = (level or 0) + 1
            steps = min(int(raise_by), len(chain))
            owner, chain = chain[steps - 1].role, chain[steps:]
        return owner, chain

    def _base_owner(self, ctx: Context, fired: int) -> str:
        """The owner when the owner rule that fired only raises the level (``escalate``
        without ``owner``): that of the first other rule holding, else the default."""
        stage = self._stages["owner"]
        for i, rule in enumerate(stage.rules):
            role = rule.info.outputs.get("owner")
            if i != fired and role is not None and rule.test(ctx):
                return str(role)
        return str(stage.default_hit.outputs["owner"])

    def render_script(self, script_id: str, complaint: Record, decision: Decision | None = None,
                      *, now: datetime | None = None) -> Reply:
        """The reply script ``script_id`` rendered for ``complaint`` as decided (``decision``,
        or the policy's own decision): for an agent's script, or to try every template.

        Raises ``RenderError`` when the template fails, ``KeyError`` for an unknown id.
        """
        if script_id not in self.script_ids:
            raise KeyError(f"no reply script {script_id!r}; the policy has "
                           f"{', '.join(self.script_ids) or 'none'}")
        record = parse_complaint(complaint)  # type: ignore[arg-type]
        decided = decision if decision is not None else self.triage(record, now=now)
        outputs = {"request_type": decided.request_type, "category": decided.category,
                   "severity": decided.severity, "handling": decided.handling}
        received = record.received_at or now or datetime.now(self._tz)
        if received.tzinfo is None:
            received = received.replace(tzinfo=self._tz)
        return self._writer.write(script_id, record, received.astimezone(self._tz), outputs,
                                  decided.owner, decided.deadlines)

    @property
    def scripts_folder(self) -> Path | None:
        """The folder the reply templates were read from (None without scripts)."""
        scripts = self._model.scripts
        return scripts.folder if scripts is not None else None

    @property
    def script_ids(self) -> tuple[str, ...]:
        """The ids of the policy's reply scripts, sorted (empty without a scripts folder)."""
        scripts = self._model.scripts
        return tuple(sorted(scripts.ids)) if scripts is not None else ()

    def guard(self, text: str) -> list[Finding]:
        """The forbidden phrases (服务忌语) in ``text``: for checking an agent's draft."""
        return self._model.guard.check(text)

    def status(self, decision: Decision, events: Iterable[Event | Mapping[str, Any]],
               now: datetime) -> CaseStatus:
        """Where ``decision``'s case stands at ``now``, given the case's ``events``.

        Each milestone is met, pending or breached, with the business time left (negative:
        overdue); paused time (between ``paused`` and ``resumed`` events) does not count;
        the policy's escalation triggers give the level and the role responsible now.
        """
        return case_status(decision, events, now, self._planner.calendars,
                           self._model.escalation, self._model.taxonomy.get("milestones", {}))

    def triage_many(self, records: Iterable[Record], *, now: datetime | None = None,
                    first_line: int = 1, history: HistorySource | None = None
                    ) -> Iterator[Decision | RecordError]:
        """Decide each record in order; a bad record yields a ``RecordError``, not an exception.

        ``line`` of an error is the record's position counted from ``first_line`` (for JSON
        lines, its line number). Blank lines in a text input are skipped but counted.
        """
        for number, record in enumerate(records, start=first_line):
            if isinstance(record, str | bytes) and blank_line(record):
                continue
            yield self._triage_or_error(record, number, now, history)

    def _triage_or_error(self, record: Record, number: int, now: datetime | None,
                         history: HistorySource | None = None) -> Decision | RecordError:
        try:
            return self.triage(record, now=now, history=history)
        except ComplaintError as exc:
            complaint_id = exc.complaint_id or _guess_id(record)
            return RecordError(number, "invalid-record", exc.message, complaint_id, exc.issues)
        except CalendarError as exc:  # a deadline needs a year the calendar has no data for
            return RecordError(number, "deadline-error", exc.message, _guess_id(record), ())
        except EngineError as exc:  # durable-rules: a fixed limit of its C core
            return RecordError(number, "engine-limit", exc.message, _guess_id(record), ())
        except RenderError as exc:  # the chosen reply template failed for this record
            return RecordError(number, "render-error", str(exc), _guess_id(record), (),
                               exc.template, exc.line)
        except DecisionError as exc:
            return RecordError(number, "decision-error", exc.message, _guess_id(record), ())

    @property
    def stages(self) -> tuple[str, ...]:
        """The stage names, in the order they run."""
        return STAGES


def _guess_id(record: Record) -> str | None:
    if isinstance(record, str | bytes):
        try:
            data = json.loads(record)
        except (ValueError, RecursionError):
            return None
        record = data if isinstance(data, dict) else {}
    if isinstance(record, Mapping):
        value = record.get("id")
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    return None
