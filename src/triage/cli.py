"""The ``triage`` command: route complaints, explain a decision, check a policy.

Exit codes: 0 success; 2 some records (route) or the policy (check) had errors;
1 the run could not go on (policy does not load, file missing, internal error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .authoring.analysis import analyse
from .authoring.cases import DEFAULT_RECEIVED as CASE_RECEIVED
from .authoring.cases import run_all
from .authoring.coverage import coverage
from .authoring.diff import diff_policies
from .authoring.evaluation import GROUPS, evaluate
from .authoring.explain import format_explanation
from .authoring.fit import (
    L1_GRID,
    fit_json,
    fit_stage,
    format_fit,
    stages_to_fit,
    weight_changes,
)
from .authoring.labelled import (
    Observed,
    complaint_records,
    load_labelled,
    observe,
    sample_files,
)
from .authoring.patch import weight_patch
from .authoring.rendering import template_problems
from .authoring.why_not import parse_question, why_not
from .complaint import Channel
from .decision import Decision, Detail
from .errors import HistoryError, PolicyError, Problem, RecordError, TriageError, format_report
from .history import CaseStore
from .integrations.batch import decide_line, triage_lines
from .integrations.discovery import ENV_VARIABLE, locate_policy
from .integrations.output import AtomicOutput, refuse_same_file, skip_decided
from .language.schema import policy_json_schema
from .policy import Policy, load_policy

EXIT_OK, EXIT_FATAL, EXIT_RECORDS = 0, 1, 2
_POLICY_HELP = (f"policy directory or file (default: ${ENV_VARIABLE}, policy = in triage.toml "
                "or [tool.triage] of pyproject.toml, ./rules when it holds a policy, else the "
                "bundled policy)")
#: ``triage check --strict`` when the policy loads but has warnings.
EXIT_WARNINGS = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
        return result
    except PolicyError as exc:
        _print_policy_error(exc, getattr(args, "format", "text"))
        return EXIT_FATAL
    except TriageError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an internal error: say so briefly, never a user-facing traceback
        print(f"triage: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        return EXIT_FATAL


def _route_parser(sub: Any) -> None:
    """``triage route``: the main job."""
    route = sub.add_parser("route", help="decide every complaint of a JSON-lines file")
    route.add_argument("input", nargs="?", default="-", help="JSON-lines file, or - for stdin")
    route.add_argument("--policy", help=_POLICY_HELP)
    route.add_argument("--out", help="write decisions here instead of stdout")
    route.add_argument("--strict", action="store_true", help="stop at the first bad record")
    route.add_argument("--explain", action="store_true",
                       help="write full decisions: the evidence and condition of every rule "
                       "that fired, deadline steps, scores (default: lean decisions)")
    route.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    route.add_argument("--now", type=_moment, metavar="TIME",
                       help="ISO time that stands in for received_at when a record has "
                            "none (default: the clock); makes reruns give the same output")
    route.add_argument("--workers", type=_workers, default=1,
                       help="worker processes (several cores; default 1)")
    route.add_argument("--resume", action="store_true",
                       help="continue a run that was killed: keep the decided lines of "
                            "--out FILE's partial output (FILE.partial) and go on")
    route.add_argument("--history", metavar="URL",
                       help="a case store (cases.db, postgresql://...): rules on history.* "
                            "facts read the customer's earlier cases, and each decision with "
                            "a customer id is recorded as a case (in input order, one process)")
    route.set_defaults(run=_route)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    _route_parser(sub)
    explain = sub.add_parser("explain", help="show the decision for one complaint, and why")
    explain.add_argument("text", nargs="?", help="complaint text (default: a JSON record on stdin)")
    explain.add_argument("--channel", default="phone", choices=[c.value for c in Channel])
    explain.add_argument("--domain", help="product domain, e.g. auto_dealer")
    explain.add_argument("--policy", help=_POLICY_HELP)
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.add_argument("--why-not", metavar="FIELD=VALUE", type=_question,
                         help="why the complaint did not get this value (category=service): "
                         "each rule that sets it, the test that failed or what beat it")
    explain.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    explain.add_argument("--history", metavar="URL",
                         help="decide with this case store's history (read only: the "
                              "complaint is not recorded)")
    explain.set_defaults(run=_explain)

    check = sub.add_parser("check", help="validate a policy and report every problem")
    check.add_argument("policy", nargs="?", help=_POLICY_HELP)
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                       help="colour the report (auto: on a terminal, unless NO_COLOR is set)")
    check.add_argument("--corpus", help="JSON-lines complaints: report stages whose default "
                       "decides most of them")
    check.set_defaults(run=_check)

    schema = sub.add_parser("schema", help="write the JSON Schema of policy files (editors)")
    schema.add_argument("--out", help="write here instead of stdout")
    schema.set_defaults(run=_schema)

    diff = sub.add_parser("diff", help="what a policy change changes: rules and decisions")
    diff.add_argument("old", help="the policy before (directory or file)")
    diff.add_argument("new", help="the policy after")
    diff.add_argument("complaints", nargs="?", help="JSON-lines complaints (default: the "
                      "bundled examples and labelled corpus)")
    diff.add_argument("--format", choices=["text", "json"], default="text")
    diff.set_defaults(run=_diff)

    test = sub.add_parser("test", help="run the policy's test cases (cases/*.yaml)")
    test.add_argument("policy", nargs="?", help=_POLICY_HELP)
    test.add_argument("--verbose", "-v", action="store_true", help="list passing cases too")
    test.add_argument("--coverage", action="store_true",
                      help="report which rules the cases fire, and list those none fires")
    test.add_argument("--threshold", type=float, metavar="PERCENT",
                      help="with --coverage: fail when fewer than PERCENT%% of the rules fire")
    test.set_defaults(run=_test)

    _labelled_parsers(sub)
    _history_parsers(sub)
    _serve_parser(sub)

    guard = sub.add_parser("guard", help="find forbidden phrases (服务忌语) in a draft reply")
    guard.add_argument("input", nargs="?", default="-", help="text file, or - for stdin")
    guard.add_argument("--policy", help=_POLICY_HELP)
    guard.add_argument("--format", choices=["text", "json"], default="text")
    guard.set_defaults(run=_guard)
    return parser


def _labelled_parsers(sub: Any) -> None:
    """``fit`` and ``eval``: the commands that read labelled complaints."""
    fit = sub.add_parser("fit", help="fit the weights of scored stages from labelled "
                         "complaints, as a change to review")
    fit.add_argument("labelled", nargs="*", help="labelled complaints: corpus JSON-lines "
                     "files, case files or policy folders (default: the policy's own cases)")
    fit.add_argument("--policy", help=_POLICY_HELP)
    fit.add_argument("--stage", action="append", default=[],
                     help="a scored stage to fit (repeatable; default: every scored stage)")
    fit.add_argument("--out", help="write the proposed weights here as a unified diff "
                     "(default: print it after the report)")
    fit.add_argument("--folds", type=int, default=5, help="folds of the cross-validation")
    fit.add_argument("--seed", type=int, default=0, help="seed of the folds (default 0)")
    fit.add_argument("--l1", type=float, help="strength of the L1 term (default: the best "
                     f"cross-validated of {', '.join(map(str, L1_GRID))})")
    fit.add_argument("--format", choices=["text", "json"], default="text")
    fit.set_defaults(run=_fit)

    evaluate_ = sub.add_parser("eval", help="accuracy on labelled complaints, per field, "
                               "and how often each rule held and was right")
    evaluate_.add_argument("labelled", nargs="*", help="labelled complaints: corpus "
                           "JSON-lines files, case files or policy folders (default: the "
                           "policy's own cases)")
    evaluate_.add_argument("--policy", help=_POLICY_HELP)
    evaluate_.add_argument("--by", choices=GROUPS, help="accuracy per product domain or "
                           "per channel too")
    evaluate_.add_argument("--format", choices=["text", "json"], default="text")
    evaluate_.set_defaults(run=_eval)


def _load(given: str | None, side: str = "") -> Policy:
    """The policy a command runs (``discovery``), said on stderr before anything else."""
    where = locate_policy(given)
    shown = "the bundled default policy" if where.path is None else str(where.path)
    label = f"{side} " if side else ""
    try:
        policy = load_policy(where.path)
    except PolicyError:
        print(f"triage: {label}policy {shown} (from {where.source}) does not load:",
              file=sys.stderr)
        raise
    print(f"triage: {label}policy {shown} ({policy.name}, version {policy.version}; from "
          f"{where.source})", file=sys.stderr)
    return policy


def _print_policy_error(exc: PolicyError, fmt: str, colour: str = "auto") -> None:
    if fmt == "json":
        print(exc.to_json())
    else:
        print(format_report(exc.problems, colour=_colour(colour, sys.stderr)), file=sys.stderr)


def _colour(choice: str, stream: IO[str]) -> bool:
    """``--color``: always, never, or auto (a terminal, unless NO_COLOR is set)."""
    if choice == "auto":
        return stream.isatty() and not os.environ.get("NO_COLOR")
    return choice == "always"


def _route(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    if args.history is not None:
        if args.workers > 1:
            print("triage: --history decides complaints in order in one process (each sees "
                  "the cases recorded before it): leave out --workers", file=sys.stderr)
            return EXIT_FATAL
        with CaseStore(args.history) as store:
            return _route_to(args, policy, store)
    return _route_to(args, policy, None)


def _route_to(args: argparse.Namespace, policy: Policy, store: CaseStore | None) -> int:
    source, total = _open_input(args)
    show_progress = (not args.no_progress and total > 0 and sys.stderr.isatty())
    try:
        target = AtomicOutput(Path(args.out), resume=args.resume) if args.out else None
    except TriageError:
        if source is not sys.stdin.buffer:
            source.close()
        raise
    written = _Written(target if target is not None else sys.stdout,
                       target.kept if target is not None else [])
    detail: Detail = "full" if args.explain else "lean"
    finished = False
    try:
        first, rest = (skip_decided(source, target.kept) if target is not None and target.kept
                       else (1, iter(source)))
        if args.workers > 1 and not args.strict:
            for is_error, text in triage_lines(rest, policy=policy, now=args.now,
                                               workers=args.workers, first_line=first,
                                               detail=detail):
                written.line(text, is_error)
        else:
            progress = _Progress(total) if show_progress else None
            for result in _route_lines(policy, enumerate(rest, start=first), progress,
                                       args.now, store):
                written.line(result.to_json() if isinstance(result, RecordError)
                             else result.to_json(detail=detail),
                             isinstance(result, RecordError))
                if isinstance(result, RecordError) and args.strict:
                    print(f"triage: line {result.line}: {result.message}", file=sys.stderr)
                    finished = True
                    return EXIT_RECORDS
            if progress:
                progress.finish()
        finished = True
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        if target is None:
            sys.stdout.flush()
        elif finished:
            target.commit()
        else:  # killed or failed: FILE untouched, the partial output kept for --resume
            target.abandon()
    return written.done()


def _open_input(args: argparse.Namespace) -> tuple[IO[bytes], int]:
    """The input of ``route`` and its size (0 for stdin); an output that is the input and a
    ``--resume`` without ``--out`` are refused first."""
    if args.resume and not args.out:
        raise TriageError("--resume continues a run that wrote to --out FILE; give --out")
    if args.input == "-":
        return sys.stdin.buffer, 0
    path = Path(args.input)
    if not path.is_file():
        raise TriageError(f"input file not found: {args.input}")
    if args.out:
        refuse_same_file(path, Path(args.out))
    return path.open("rb"), path.stat().st_size


class _Written:
    """The lines ``route`` writes, with the count of error records and of decisions that
    took the wall clock for a missing ``received_at`` (lines kept by ``--resume`` count)."""

    def __init__(self, out: IO[str] | AtomicOutput, kept: list[str]) -> None:
        self.out = out
        self.failed = sum(line.startswith('{"error"') for line in kept)
        self.clock = sum(_CLOCK in line for line in kept)

    def line(self, text: str, is_error: bool) -> None:
        self.out.write(text + "\n")
        self.failed += is_error
        self.clock += _CLOCK in text

    def done(self) -> int:
        """Say what failed and what the clock decided, on stderr; the exit status."""
        if self.clock:
            print(f"triage: {self.clock} record(s) had no received_at: the clock stood in, "
                  "so a rerun decides their deadlines differently (give --now TIME for the "
                  "same output on every run)", file=sys.stderr)
        if self.failed:
            print(f"triage: {self.failed} record(s) could not be triaged (see error records)",
                  file=sys.stderr)
        return EXIT_RECORDS if self.failed else EXIT_OK


#: How a decision's JSON says the wall clock stood in for a missing received_at.
_CLOCK = '"received_at_source":"clock"'


def _route_lines(policy: Policy, lines: Iterable[tuple[int, bytes]],
                 progress: _Progress | None, now: datetime | None,
                 store: CaseStore | None = None) -> Iterator[Decision | RecordError]:
    """One result per non-blank input line, in order; undecodable lines become errors.
    With a store, each decision with a customer is recorded as a case once decided."""
    for number, raw in lines:
        if progress:
            progress.advance(len(raw))
        result = decide_line(policy, number, raw, now, store)
        if result is None:
            continue
        used = result.history if isinstance(result, Decision) else None
        if store is not None and used is not None and isinstance(result, Decision):
            try:
                store.record_decision(result, customer=used.customer, product=used.product,
                                      domain=used.domain)
            except TriageError as exc:  # e.g. the case id is already stored: decided anyway
                print(f"triage: line {number}: not recorded in the case store: {exc}",
                      file=sys.stderr)
        yield result


def _workers(text: str) -> int:
    """``--workers``: a whole number of processes, at least 1."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} workers cannot route anything: give 1 "
                                         f"or more (this machine has {os.cpu_count()} cores)")
    return count


def _moment(text: str) -> datetime:
    """``--now``: an ISO 8601 time; without an offset it is read in the policy's zone."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO time such as 2026-11-23T09:30:00+08:00") from None


class _Progress:
    """A one-line progress bar on stderr, by bytes read."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.shown = -1

    def advance(self, size: int) -> None:
        self.done += size
        percent = min(100, self.done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r[{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")


def _explain(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    record: dict[str, Any]
    if args.text is not None:
        record = {"id": "cli", "channel": args.channel, "text": args.text}
        if args.domain:
            record["product"] = {"domain": args.domain}
    else:
        data = sys.stdin.read()
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise TriageError(f"stdin is not a JSON record: {exc}") from None
        if not isinstance(parsed, dict):
            raise TriageError("stdin must hold one JSON object")
        record = parsed
    try:
        if args.history is not None:  # read only: the complaint is not recorded
            with CaseStore(args.history) as store:
                decision = policy.triage(record, history=store)
        else:
            decision = policy.triage(record)
    except HistoryError:
        raise
    except TriageError as exc:
        print(f"triage: invalid complaint: {exc}", file=sys.stderr)
        return EXIT_RECORDS
    answer = why_not(policy, record, *args.why_not) if args.why_not else None
    if args.json:
        print(answer.to_json() if answer is not None else decision.to_json(indent=2))
        return EXIT_OK
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print(format_explanation(decision, str(record.get("text", "")), policy, colour=colour))
    if answer is not None:
        print()
        print(answer.format())
    return EXIT_OK


def _question(text: str) -> tuple[str, str]:
    try:
        return parse_question(text)
    except TriageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check(args: argparse.Namespace) -> int:
    try:
        policy = _load(args.policy)
    except PolicyError as exc:
        _print_policy_error(exc, args.format, args.color)
        return EXIT_RECORDS
    sample: list[dict[str, object]] = []
    if args.corpus:
        sample = list(complaint_records(Path(args.corpus)))
    errors = template_problems(policy)  # templates that fail at run time
    warnings = (*policy.warnings, *analyse(policy, sample))
    found = (*errors, *warnings)
    if args.format == "json":
        print(json.dumps([w.to_dict() for w in found], ensure_ascii=False))
    else:
        if found:
            print(format_report(found, colour=_colour(args.color, sys.stderr)),
                  file=sys.stderr)
        print(f"{policy.name}: {policy.rule_count} rules, version {policy.version}, "
              f"{len(errors)} error(s), {len(warnings)} warning(s)")
    if errors:
        return EXIT_RECORDS
    return EXIT_WARNINGS if (args.strict and warnings) else EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    text = policy_json_schema()
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    """Exit 0; 2 when either policy does not load."""
    try:
        old, new = _load(args.old, "old"), _load(args.new, "new")
    except PolicyError as exc:
        _print_policy_error(exc, args.format)
        return EXIT_RECORDS
    sources = [Path(args.complaints)] if args.complaints else sample_files()
    records = [record for source in sources for record in complaint_records(source)]
    report = diff_policies(old, new, records)
    print(report.to_json() if args.format == "json" else report.format())
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    """Exit 0 when every case passes, 2 when one fails, the policy does not load, or the
    cases fire fewer rules than ``--threshold``."""
    try:
        policy = _load(args.policy)
    except PolicyError as exc:
        _print_policy_error(exc, "text")
        return EXIT_RECORDS
    passed = failed = 0
    results = list(run_all(policy, policy.path))
    for result in results:
        if isinstance(result, Problem):
            print(result.format())
            failed += 1
        elif result.passed:
            passed += 1
            if args.verbose:
                print(f"PASS {result.case.file}:{result.case.line}: {result.case.name}")
        else:
            failed += 1
            print("FAIL " + result.report())
    total = passed + failed
    if total == 0:
        print(f"no cases found in {policy.path / 'cases'}", file=sys.stderr)
        return EXIT_RECORDS
    print(f"{passed}/{total} cases passed" + (f", {failed} failed" if failed else ""))
    below = False
    if args.coverage or args.threshold is not None:
        covered = coverage(policy, results)
        print(covered.format())
        if args.threshold is not None and covered.percent < args.threshold:
            below = True
            print(f"coverage {covered.percent:.1f}% is below the threshold "
                  f"{args.threshold:g}%: add cases that fire the rules listed")
    return EXIT_RECORDS if failed or below else EXIT_OK


def _labelled(policy: Policy, given: Sequence[str]) -> tuple[list[Observed], list[Problem]]:
    """The labelled complaints of ``fit`` and ``eval`` as the policy decides them; the
    records that cannot be read or decided are reported on stderr, the rest kept."""
    records, problems = load_labelled(given or [policy.path if policy.path.is_dir()
                                                else policy.path.parent])
    observed, failed = observe(policy, records, now=datetime.fromisoformat(CASE_RECEIVED))
    problems += failed
    if problems:
        print(format_report(problems, colour=_colour("auto", sys.stderr)), file=sys.stderr)
    if not observed:
        raise TriageError("no labelled complaint to work on: give corpus JSON-lines files "
                          "or case files")
    return observed, problems


def _fit(args: argparse.Namespace) -> int:
    """Exit 0; 2 when some labelled records were left out; 1 when nothing can be fitted."""
    policy = _load(args.policy)
    stages = stages_to_fit(policy, args.stage)
    observed, problems = _labelled(policy, args.labelled)
    fits = [fit_stage(policy, observed, stage, folds=args.folds, seed=args.seed, l1=args.l1)
            for stage in stages]
    patch = weight_patch(policy, weight_changes(fits))
    if args.out:
        Path(args.out).write_text(patch.diff, encoding="utf-8")
    if args.format == "json":
        print(fit_json(fits, patch.diff, problems))
    else:
        print(format_fit(fits, problems))
        for rule_id, reason in patch.by_hand:
            print(f"  by hand: {rule_id}: {reason}")
        where = policy.path.parent
        if not patch.diff:
            print("no weight changes")
        elif args.out:
            print(f"proposed weights written to {args.out}; review, then apply with: "
                  f"patch -p1 -d {where} < {args.out}")
        else:
            print(f"proposed weights (apply with patch -p1 -d {where}):\n{patch.diff}", end="")
    return EXIT_RECORDS if problems else EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    """Exit 0; 2 when some labelled records were left out."""
    policy = _load(args.policy)
    observed, problems = _labelled(policy, args.labelled)
    report = evaluate(policy, observed, args.by)
    print(report.to_json(problems) if args.format == "json" else report.format())
    return EXIT_RECORDS if problems else EXIT_OK


def _guard(args: argparse.Namespace) -> int:
    """Exit 0 when the draft is clean, 2 when it has a forbidden phrase."""
    try:
        policy = _load(args.policy)
    except PolicyError as exc:
        _print_policy_error(exc, args.format)
        return EXIT_FATAL
    if args.input == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.input).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"triage guard: cannot read {args.input}: {exc}", file=sys.stderr)
            return EXIT_FATAL
    findings = policy.guard(text)
    if args.format == "json":
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False))
    else:
        for f in findings:
            line = text.count("\n", 0, f.start) + 1
            column = f.start - (text.rfind("\n", 0, f.start) + 1) + 1
            print(f"{args.input}:{line}:{column}: 忌语「{f.matched}」（{f.reason}）"
                  f"，建议：{f.suggestion}")
        if not findings:
            print("没有发现服务忌语", file=sys.stderr)
    return EXIT_RECORDS if findings else EXIT_OK


def _history_parsers(sub: Any) -> None:
    """``triage kpi``, ``triage report`` and ``triage demo-month`` (case history)."""
    store_help = "the case store: a SQLite file, sqlite:///path or postgresql://..."
    kpi = sub.add_parser("kpi", help="a month's KPIs of a case store, against the targets")
    kpi.add_argument("--store", required=True, help=store_help)
    kpi.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    kpi.add_argument("--by", choices=["owner", "category", "channel"], default=None,
                     help="also give the KPIs per owner team, category or channel")
    kpi.add_argument("--format", choices=["json", "csv", "text"], default="text")
    kpi.add_argument("--policy", help=_POLICY_HELP + "; its calendars time the deadlines")
    kpi.set_defaults(run=_kpi)
    report = sub.add_parser("report", help="a month's report of a case store as one HTML file")
    report.add_argument("--store", required=True, help=store_help)
    report.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--policy", help=_POLICY_HELP + "; its calendars time the deadlines")
    report.set_defaults(run=_report)
    demo = sub.add_parser("demo-month", help="write a simulated month of cases into a new "
                          "store (decided with the bundled policy)")
    demo.add_argument("--out", required=True, help="the new SQLite file (or a store URL)")
    demo.add_argument("--month", default="2026-11", help="YYYY-MM (default 2026-11)")
    demo.add_argument("--cases", type=int, default=3000, help="how many cases (default 3000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(run=_demo_month)


def _existing_store(url: str) -> Any:
    """The ``CaseStore`` at ``url``; a SQLite file must exist (else a new one is made)."""

    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else (
        None if "://" in url else url)
    if path is not None and path != ":memory:" and not Path(path).is_file():
        raise HistoryError(f"no case store at {path}",
                           "give the file triage demo-month --out or your service wrote, "
                           "or a postgresql:// URL")
    return CaseStore(url)


def _month_kpis(args: argparse.Namespace, group_by: Any) -> tuple[Policy, Any]:
    from .history.kpi import month_bounds, monthly_kpis  # noqa: PLC0415

    month_bounds(args.month, _zone())  # a bad month is said before the policy loads
    policy = _load(args.policy)
    with _existing_store(args.store) as store:
        return policy, monthly_kpis(store, args.month, calendars=_calendars(policy),
                                    group_by=group_by)


def _zone() -> Any:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return ZoneInfo("Asia/Shanghai")


def _calendars(policy: Policy) -> Any:
    """The policy's business calendars by name. ``Policy`` has no public accessor yet;
    the planner's mapping is read-only."""
    return policy.calendars


def _kpi(args: argparse.Namespace) -> int:
    """Print the month's KPIs; exit 2 on a bad store, month or policy calendar."""
    try:
        _, kpis = _month_kpis(args, args.by)
    except HistoryError as exc:
        print(f"triage kpi: {exc}", file=sys.stderr)
        return EXIT_RECORDS
    if args.format == "json":
        sys.stdout.write(kpis.to_json() + "\n")
    elif args.format == "csv":
        sys.stdout.write(kpis.to_csv())
    else:
        sys.stdout.write(_kpi_text(kpis))
    return EXIT_OK


def _kpi_text(kpis: Any) -> str:
    lines = [f"{kpis.month}: {kpis.total.cases} cases (as of {kpis.as_of.isoformat()})"]
    for group in (kpis.total, *kpis.groups):
        key = "all" if group.key is None else group.key
        lines.append(f"== {key} ({group.cases} cases)")
        for rate in group.rates:
            value = "-" if rate.value is None else f"{rate.value * 100:.1f}%"
            sign = ">=" if rate.target.at_least else "<="
            verdict = {None: "no data", True: "met", False: "MISSED"}[rate.met]
            lines.append(f"  {rate.kpi:<24} {value:>7}  {rate.numerator}/{rate.denominator}"
                         f"  target {sign}{rate.target.value * 100:g}%  {verdict}")
        for m in group.milestones:
            lines.append(f"  breaches {m.milestone:<15} {m.breached}/{m.total} "
                         f"(late {m.late}, overdue {m.overdue}, pending {m.pending})")
        for name, spread in (("first_contact", group.first_contact),
                             ("resolution", group.resolution)):
            if spread.count:
                lines.append(f"  hours to {name:<14} mean {spread.mean_hours:.1f}  "
                             f"p90 {spread.p90_hours:.1f}  ({spread.count} cases)")
    over = [w for w in kpis.team_weeks if w.over]
    lines.append(f"team weeks over the cap: {len(over)} of {len(kpis.team_weeks)}")
    lines.extend(f"  {w.team} {w.week}: {w.count} (cap {w.cap})" for w in over)
    return "\n".join(lines) + "\n"


def _report(args: argparse.Namespace) -> int:
    """Write the month's HTML report; exit 2 on a bad store, month or output path."""
    from .history.report import render_report  # noqa: PLC0415

    try:
        policy, kpis = _month_kpis(args, None)
        labels = {value: label for kind in ("category", "milestones", "request_type", "handling")
                  for value, label in policy.taxonomy.get(kind, {}).items()}
        page = render_report(kpis, labels=labels)
        try:
            Path(args.out).write_text(page, encoding="utf-8")
        except OSError as exc:
            raise HistoryError(f"cannot write {args.out}: {exc.strerror or exc}",
                               "check the folder exists and is writable") from None
    except HistoryError as exc:
        print(f"triage report: {exc}", file=sys.stderr)
        return EXIT_RECORDS
    print(f"triage report: wrote {args.out} ({kpis.total.cases} cases)", file=sys.stderr)
    return EXIT_OK


def _demo_month(args: argparse.Namespace) -> int:
    """Write a simulated month into a new store; exit 2 when it cannot."""
    from .history.kpi import month_bounds  # noqa: PLC0415
    from .history.simulate import simulate_month  # noqa: PLC0415

    try:
        month_bounds(args.month, _zone())
        if "://" not in args.out and Path(args.out).exists():
            raise HistoryError(f"{args.out} already exists",
                               "give a new file name, or remove the old store first")
        policy = load_policy()
        with CaseStore(args.out) as store:
            # decided with the store as it fills: repeats are flagged by the policy's own
            # history rules (flags.repeat_complaint), the 4th attitude complaint of a week
            # goes to the team's manager
            def decide(record: Mapping[str, Any]) -> Decision:
                return policy.triage(record, history=store)

            made = simulate_month(store, decide, month=args.month, cases=args.cases,
                                  seed=args.seed)
    except HistoryError as exc:
        print(f"triage demo-month: {exc}", file=sys.stderr)
        return EXIT_RECORDS
    print(f"triage demo-month: wrote {made.cases} cases and {made.events} events of "
          f"{made.month} to {args.out}", file=sys.stderr)
    return EXIT_OK


def _serve_parser(sub: Any) -> None:
    """``triage serve``: the policy workbench (the ``web`` extra)."""
    serve = sub.add_parser("serve", help="the policy workbench: try, edit, test and publish "
                           "rules in a web page, and a JSON API under /v1/")
    serve.add_argument("policy", nargs="?", help="the policy folder to edit and serve "
                       "(default: as for --policy of the other commands, a folder only)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                       "127.0.0.1; any other needs a token)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--token", help="the token every write needs (default: "
                       "$TRIAGE_SERVE_TOKEN)")
    serve.add_argument("--read-only", action="store_true",
                       help="no saving, publishing or reverting (a shared demo)")
    serve.add_argument("--corpus", action="append", default=[], metavar="FILE",
                       help="JSON-lines complaints (records or labelled corpus lines) that "
                       "Impact decides; repeatable (default: the bundled examples and "
                       "labelled corpus)")
    serve.add_argument("--watch", type=float, default=2.0, metavar="SECONDS",
                       help="look at the policy folder this often and serve a change made "
                       "outside the workbench, e.g. a deploy (default 2; 0: never)")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 without the web extra or with an unsafe binding."""
    try:
        import uvicorn  # noqa: PLC0415

        from .web import ServeOptions, check_bind, create_app  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        print(f"triage serve: {exc.name} is not installed: pip install \"triage[web]\"",
              file=sys.stderr)
        return EXIT_RECORDS
    from .web.options import TOKEN_VARIABLE  # noqa: PLC0415

    corpus = tuple(Path(c) for c in args.corpus)
    missing = [str(c) for c in corpus if not c.is_file()]
    if missing:
        print(f"triage serve: no such corpus file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_RECORDS
    options = ServeOptions(host=args.host, port=args.port,
                           token=args.token or os.environ.get(TOKEN_VARIABLE) or None,
                           read_only=args.read_only, corpus=corpus,
                           watch=args.watch if args.watch > 0 else None)
    try:
        check_bind(options)
    except TriageError as exc:
        print(f"triage serve: {exc}", file=sys.stderr)
        return EXIT_RECORDS
    where = locate_policy(args.policy).path
    if where is None or not where.is_dir():
        print("triage serve: give the policy folder to edit (the bundled policy is read-only "
              "inside the package): e.g. triage serve rules/", file=sys.stderr)
        return EXIT_RECORDS
    app = create_app(where, options)
    mode = ("read-only" if options.read_only else
            "writes need the token" if options.token else "loopback only")
    print(f"triage serve: {where} on http://{args.host}:{args.port}/ ({mode})",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
