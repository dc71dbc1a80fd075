"""What a rule may set: the outputs of each stage, checked against the taxonomy and roles.

A rule's ``set`` (and a stage's ``default``) names values of the taxonomy, roles, a reply
script or deadline items; each is checked here, with the stage it belongs to named in the
hint when a rule sets an output of another stage.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..errors import Problem, did_you_mean
from .loader import PathKey, SourceFile
from .schema import STAGE_OUTPUTS, RoleSpec
from .timing import TimingChecker


class OutputChecker:
    """Checks the outputs rules and defaults set, adding to ``problems``."""

    def __init__(self, problems: list[Problem], timing: TimingChecker,
                 script_ids: frozenset[str] | None) -> None:
        self.problems = problems
        self.timing = timing
        #: The scripts folder's script ids; None when the policy names no scripts folder.
        self.script_ids = script_ids

    def outputs(self, source: SourceFile, stage: str, value: Any, path: PathKey,
                 values: dict[str, frozenset[str]], roles: dict[str, RoleSpec],
                 *, default: bool = False) -> dict[str, Any] | None:
        allowed = STAGE_OUTPUTS[stage]
        shorthand = False  # ``default: [...]`` written for ``default: {flags: [...]}``
        if not isinstance(value, dict):
            if stage in ("flags", "deadlines") and isinstance(value, list | str):
                value = {stage: value}
                shorthand = True
            elif isinstance(value, str) and len(allowed) >= 1:
                value = {allowed[0]: value}
            else:
                what = "default" if default else "set"
                self.problems.append(source.problem(
                    path, "wrong-type",
                    f"'{what}' of the {stage} stage takes a mapping such as "
                    f"{{{allowed[0]}: ...}}"))
                return None
        out: dict[str, Any] = {}
        ok = True
        for key, item in value.items():
            where: PathKey = path if shorthand else (*path, key)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                owner = next((s for s, keys in STAGE_OUTPUTS.items() if key in keys), None)
                hint = (f"did you mean '{close[0]}'?" if close else
                        f"'{key}' is set in the {owner} stage" if owner else
                        f"the {stage} stage sets: {', '.join(allowed)}")
                self.problems.append(source.problem(
                    where, "unknown-key", f"the {stage} stage cannot set '{key}'", hint,
                    key=True))
                ok = False
                continue
            checked = self._value(source, key, item, where, values, roles)
            if checked is None:
                ok = False
            else:
                out[key] = checked
        if ok and not default and not out:
            self.problems.append(source.problem(path, "empty", "'set' sets nothing"))
            ok = False
        if ok and default:
            needed = [k for k in allowed if k not in out and k not in ("subcategory",
                                                                       "escalation", "escalate")]
            if needed:
                self.problems.append(source.problem(
                    path, "missing-key", f"the {stage} default must set {', '.join(needed)}"))
                ok = False
        return out if ok else None

    def _value(self, source: SourceFile, key: str, item: Any, where: PathKey,
                      values: dict[str, frozenset[str]],
                      roles: dict[str, RoleSpec]) -> Any:
        if key == "deadlines":
            return self.timing.deadline_items(source, item, where, values)
        if key == "escalate":
            if item == "first_case" or (isinstance(item, int) and not isinstance(item, bool)
                                        and 1 <= item <= 9):
                return item
            self.problems.append(source.problem(
                where, "wrong-type", f"'escalate' takes a number of levels (1-9) or "
                f"first_case, found {item!r}",
                "escalate: 1 gives the case to the first role of the owner's escalation "
                "chain; first_case to one level above the customer's first case on the topic"))
            return None
        if key == "script":
            known = self.script_ids
            if known is None:
                self.problems.append(source.problem(
                    where, "missing-key", "the policy names no scripts folder",
                    "add 'policy: {scripts: scripts_cn}'"))
                return None
            if not isinstance(item, str) or item not in known:
                self.problems.append(source.problem(
                    where, "undefined-script", f"script '{item}' is not in the scripts folder",
                    did_you_mean(str(item), known)))
                return None
            return item
        if key in ("flags", "escalation"):
            items = [item] if isinstance(item, str) else item
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.problems.append(source.problem(where, "wrong-type",
                                                    f"'{key}' takes a list of names"))
                return None
            known = values["flags"] if key == "flags" else frozenset(roles)
            for i, name in enumerate(items):
                if name not in known:
                    code = "unknown-value" if key == "flags" else "undefined-role"
                    what = "flag of the taxonomy" if key == "flags" else "defined role"
                    self.problems.append(source.problem(
                        (*where, i) if isinstance(item, list) else where, code,
                        f"'{name}' is not a {what}", did_you_mean(name, known)))
                    return None
            return tuple(dict.fromkeys(items))
        if not isinstance(item, str):
            self.problems.append(source.problem(where, "wrong-type",
                                                f"'{key}' takes a name, found {item!r}"))
            return None
        known = frozenset(roles) if key == "owner" else values[key]
        if item not in known:
            code = "undefined-role" if key == "owner" else "unknown-value"
            what = "defined role" if key == "owner" else f"{key} of the taxonomy"
            self.problems.append(source.problem(where, code, f"'{item}' is not a {what}",
                                                did_you_mean(item, known)))
            return None
        return item
