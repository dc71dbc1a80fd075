"""Every reply template tried at run time before a policy is published (``triage check``).

Loading a policy renders each template with a few sample contexts; a template can still
fail for a particular complaint (a division by zero, an index past the last deadline, a
value that only some complaints have). Here every script is rendered for the complaints
of the policy's own cases and for a generated complaint per situation (each request
type, in Simplified and Traditional, with and without a name), and each failure is
reported at the template's file and line, naming the complaint that made it fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..complaint import RequestType
from ..errors import Problem, RenderError, TriageError
from ..policy import Policy
from .cases import policy_cases

#: Texts of the generated complaints, Simplified and Traditional.
_TEXTS = ("产品有问题，请尽快处理", "產品有問題，請盡快處理")


def situations() -> Iterator[tuple[str, dict[str, Any]]]:
    """A generated complaint per situation: every request type, both scripts, with and
    without the customer's name."""
    for request_type in RequestType:
        for locale, text in zip(("简", "繁"), _TEXTS, strict=True):
            for named in (False, True):
                record: dict[str, Any] = {
                    "id": f"CHECK-{request_type.value}-{len(text)}", "channel": "phone",
                    "text": text, "request_type": request_type.value,
                    "received_at": "2026-11-23T10:00:00+08:00"}
                if named:
                    record["customer"] = {"name": "王伟", "title": "先生"}
                yield (f"generated {request_type.value} ({locale}"
                       f"{', named' if named else ''})", record)


def case_complaints(policy_dir: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The complaint of every case of the policy's ``cases/`` folder, named by its case."""
    if not policy_dir.is_dir():
        return
    for case in policy_cases(policy_dir):
        if not isinstance(case, Problem):  # a broken case file: `triage test` reports it
            yield f"case '{case.name}' ({case.file}:{case.line})", case.complaint


def template_problems(policy: Policy,
                      complaints: Iterable[tuple[str, Mapping[str, Any]]] | None = None,
                      ) -> list[Problem]:
    """Runtime failures of the policy's templates, one problem per template line.

    ``complaints`` default to the policy's own cases and the generated situations.
    """
    if not policy.script_ids:
        return []
    if complaints is None:
        complaints = [*case_complaints(policy.path), *situations()]
    found: dict[tuple[str, int | None], Problem] = {}
    for name, complaint in complaints:
        try:
            decision = policy.triage(complaint)
        except RenderError as exc:
            _report(found, policy, exc, name)
            continue
        except TriageError:  # an invalid case complaint: `triage test` reports it
            continue
        for script_id in policy.script_ids:
            try:
                policy.render_script(script_id, complaint, decision)
            except RenderError as exc:
                _report(found, policy, exc, name)
    return sorted(found.values(), key=Problem.sort_key)


def _report(found: dict[tuple[str, int | None], Problem], policy: Policy, exc: RenderError,
            complaint: str) -> None:
    key = (exc.template, exc.line)
    if key in found:
        return
    found[key] = Problem(
        exc.template, exc.line or 1, 1, "template-runtime-error",
        f"the template fails for {complaint}: {exc.message}",
        "guard the expression for the values some complaints have (e.g. {% if deadlines %})",
        _source_line(policy, exc.template, exc.line))


def _source_line(policy: Policy, template: str, line: int | None) -> str | None:
    """The template's line ``line``, read from the policy's scripts folder."""
    folder = policy.scripts_folder
    if folder is None or line is None:
        return None
    path = folder / Path(template).name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None
