"""Reply scripts (话术): Jinja templates in ``scripts_cn/``, checked and compiled at load.

Each template starts with a Jinja comment holding its front matter (YAML: ``id``,
``title``, ``situation``, ``variables``). Templates run in Jinja's ``SandboxedEnvironment``
with ``StrictUndefined``; they may use only the documented context variables
(``CONTEXT_VARIABLES``, see docs/scripts.md). Complaint text never enters a template: it
is not in the context, and the customer fields that are (the name in ``address``) are
values, which Jinja does not evaluate. A template using an unknown variable, or whose
own words contain a forbidden phrase, is a policy error at its file and line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from ..errors import Problem, RenderError
from .guard import Guard

#: The variables a template may use (documented in docs/scripts.md).
CONTEXT_VARIABLES: frozenset[str] = frozenset({
    "address", "case_number", "received_date", "request_type_label", "category_label",
    "severity_label", "owner", "deadlines", "hotline", "company"})
_FRONT = re.compile(r"\A\s*\{#(.*?)#\}", re.S)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_TEMPLATE_BYTES = 64 * 1024
#: Longest reply a template may produce; and the largest string or list ``*`` may build.
MAX_REPLY_CHARS = 20_000
_SAMPLE_DEADLINES = (
    MappingProxyType({"label": "首次联系客户", "due_text": "11月24日(周二)上午9:50前"}),
    MappingProxyType({"label": "处理完毕", "due_text": "11月26日(周四)24:00前"}))
#: Values a template is tried with at load, so that a failure shows there, not on a call.
SAMPLE_CONTEXTS = tuple(
    MappingProxyType({
        "address": address, "case_number": "C-1024", "received_date": "11月23日",
        "request_type_label": "投诉", "category_label": "产品质量类", "severity_label": "严重",
        "owner": "售后服务经理", "deadlines": deadlines, "hotline": hotline, "company": "本公司"})
    for address, deadlines, hotline in (("王先生", _SAMPLE_DEADLINES, "400-000-0000"),
                                        ("您", (), "")))


#: Filters a reply template may use: none of them can build a long text from a short one.
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last",
    "length", "lower", "round", "string", "title", "trim", "truncate", "upper"})
#: What a reply template may be made of: output, ``if``, one level of ``for`` over
#: ``deadlines``, and expressions without calls. No macros (recursion), no ``set`` (a
#: text doubled line after line), no includes.
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For, nodes.Name,
    nodes.Const, nodes.Getattr, nodes.Getitem, nodes.Concat, nodes.Compare, nodes.Operand,
    nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.CondExpr, nodes.Test,
    nodes.Filter, nodes.List, nodes.Tuple, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div,
    nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Slice)
_TAG_NAMES = {nodes.Macro: "macro", nodes.CallBlock: "call", nodes.Assign: "set",
              nodes.AssignBlock: "set", nodes.Include: "include", nodes.Import: "import",
              nodes.FromImport: "from ... import", nodes.Extends: "extends",
              nodes.Block: "block", nodes.With: "with", nodes.FilterBlock: "filter",
              nodes.Call: "a call ( )", nodes.ExprStmt: "do", nodes.Scope: "scope"}


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``~`` going through ``ReplySandbox.concat_bounded``."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802 (Jinja)
        self.write("environment.concat_bounded((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


#: The loop's read-only counters (``loop.first``...): plain values, safe to read directly.
_LOOP_COUNTERS = frozenset({"first", "last", "index", "index0", "revindex", "revindex0",
                            "length", "depth", "depth0"})


class ReplySandbox(SandboxedEnvironment):
    """Jinja's sandbox, with no globals (no ``range``, ``lipsum``...), a few harmless
    filters, and ``*``, ``+`` and ``~`` bounded to ``MAX_REPLY_CHARS``.

    Templates need only ``if`` and ``for`` over the context; what could build a huge
    string or loop for long is not there (see ``template_features``).
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals.clear()
        for name in set(self.filters) - SAFE_FILTERS:
            del self.filters[name]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("'**' is not allowed in reply templates")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting is not allowed in reply templates; join "
                                "text with ~")
        sized = [v for v in (left, right) if isinstance(v, str | list | tuple)]
        counts = [v for v in (left, right) if isinstance(v, int)]
        if operator == "*" and sized and counts:
            _check_size(len(sized[0]) * max(counts), "'*'")
        elif operator == "+" and len(sized) == 2:
            _check_size(len(sized[0]) + len(sized[1]), "'+'")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``d.label`` on a read-only mapping (a deadline of the context) reads its item,
        and ``loop.last`` (or another of the loop's counters) reads it directly.

        The sandbox would first look for an attribute (failing with an exception on a
        mapping), then check it is safe: five times the cost, paid for every deadline of
        every reply. Any other name falls back to the sandbox's own rules.
        """
        kind = type(obj)
        if kind is MappingProxyType:
            try:
                return obj[attribute]
            except KeyError:
                pass
        elif kind is LoopContext and attribute in _LOOP_COUNTERS:
            return getattr(obj, attribute)
        return _no_method(super().getattr(obj, attribute), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``x['name']`` as the sandbox reads it, but never a method or a type."""
        return _no_method(super().getitem(obj, argument), argument)

    def concat_bounded(self, values: Iterable[Any]) -> str:
        """``a ~ b``: joined as text, refused past ``MAX_REPLY_CHARS``."""
        text = "".join(str(v) for v in values)
        _check_size(len(text), "'~'")
        return text


def _no_method(value: Any, name: Any) -> Any:
    """``value`` unless it is a method, function or type: templates cannot call them, and
    printing one shows a Python repr with a memory address (``{{ address.encode }}``)."""
    if callable(value) and not isinstance(value, Undefined):
        raise SecurityError(f"'{name}' is a method, not a value: reply templates print "
                            "the context's values only")
    return value


def _check_size(size: int, operator: str) -> None:
    if size > MAX_REPLY_CHARS:
        raise SecurityError(f"{operator} would build more than {MAX_REPLY_CHARS:,} characters")


def template_features(tree: nodes.Template) -> tuple[int, str] | None:
    """The first thing in ``tree`` reply templates may not use: (line, what), or None."""
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            name = _TAG_NAMES.get(type(node), type(node).__name__)
            return node.lineno, f"'{name}' is not available in reply templates"
        if isinstance(node, nodes.For):
            if node.recursive:
                return node.lineno, "a recursive loop is not available in reply templates"
            if not (isinstance(node.iter, nodes.Name) and node.iter.name == "deadlines"):
                return node.lineno, "'for' loops only over deadlines in reply templates"
            inner = next(iter(node.find_all(nodes.For)), None)
            if inner is not None:
                return inner.lineno, "loops inside loops are not available in reply templates"
    return None


@dataclass(frozen=True, slots=True)
class Script:
    """One reply template: what it is for, the variables it uses, and where it is."""

    id: str
    title: str
    situation: str
    variables: tuple[str, ...]
    file: str
    #: ``rules``: chosen by the script stage; ``agent``: picked by an agent during a call.
    use: str
    #: The reply for a context, trimmed.
    render: Callable[[Mapping[str, Any]], str] = field(repr=False, compare=False)
    #: The reply untrimmed, as the template yields it: each run of literal text and each
    #: ``{{ value }}`` a piece of its own, so that a converter can treat them apart.
    pieces: Callable[[Mapping[str, Any]], list[str]] = field(repr=False, compare=False)
    #: The runs of literal text ``pieces`` can yield: the template's words, no Jinja syntax.
    texts: frozenset[str] = field(repr=False, compare=False)


class ScriptLibrary:
    """The scripts of a policy, compiled once; ``digest`` is a hash of their sources,
    ``folder`` where they were read from."""

    __slots__ = ("_scripts", "digest", "folder")

    def __init__(self, scripts: Iterable[Script], digest: str,
                 folder: Path | None = None) -> None:
        self._scripts = MappingProxyType({s.id: s for s in scripts})
        self.digest = digest
        self.folder = folder

    def __contains__(self, script_id: object) -> bool:
        return script_id in self._scripts

    def __getitem__(self, script_id: str) -> Script:
        return self._scripts[script_id]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._scripts)

    @property
    def scripts(self) -> Mapping[str, Script]:
        return self._scripts


def load_scripts(directory: Path, display_base: Path, guard: Guard
                 ) -> tuple[ScriptLibrary, list[Problem]]:
    """Read, check and compile every ``*.j2`` in ``directory``; collect all problems."""
    env = ReplySandbox()
    problems: list[Problem] = []
    scripts: list[Script] = []
    digest = hashlib.sha256()
    inside = directory.resolve()
    for path in sorted(directory.glob("*.j2")):
        name = _display(path, display_base)
        if not path.resolve().is_relative_to(inside) or not path.is_file():
            problems.append(Problem(name, 1, 1, "outside-policy",
                                    "the template is a link to a file outside the scripts "
                                    "folder; it was not read",
                                    "copy the template into the scripts folder"))
            continue
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        if len(raw) > MAX_TEMPLATE_BYTES:
            problems.append(Problem(name, 1, 1, "too-large",
                                    f"template is {len(raw):,} bytes; the limit is "
                                    f"{MAX_TEMPLATE_BYTES:,}"))
            continue
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(name, 1, 1, "encoding", f"not UTF-8: {exc.reason}",
                                    "save the file as UTF-8"))
            continue
        script = _script(env, path.stem, name, source, guard, problems)
        if script is not None:
            scripts.append(script)
    return ScriptLibrary(scripts, digest.hexdigest(), directory), problems


def _script(env: ReplySandbox, stem: str, name: str, source: str, guard: Guard,
            problems: list[Problem]) -> Script | None:
    lines = source.splitlines()

    def problem(line: int, column: int, code: str, message: str, hint: str | None = None
                ) -> None:
        text = lines[line - 1] if 0 < line <= len(lines) else None
        problems.append(Problem(name, line, column, code, message, hint, text))

    found = _FRONT.match(source)
    if found is None:
        problem(1, 1, "missing-front-matter", "the template does not start with its front "
                "matter", "begin with {# id: ..., title: ..., situation: ..., variables: [...] #}")
        return None
    try:
        front = yaml.safe_load(found.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem((mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1,
                "yaml-syntax", f"front matter: {getattr(exc, 'problem', exc)}")
        return None
    if not isinstance(front, dict):
        problem(1, 1, "wrong-type", "the front matter must be a mapping of id, title, "
                "situation and variables")
        return None
    before = len(problems)
    for key in ("id", "title", "situation", "variables"):
        if key not in front:
            problem(1, 1, "missing-key", f"the front matter has no '{key}'")
    unknown = sorted(set(front) - {"id", "title", "situation", "variables", "description",
                                   "use"})
    if front.get("use", "rules") not in ("rules", "agent"):
        problem(_line_of(lines, "use:"), 1, "unknown-value",
                f"use is {front.get('use')!r}; expected rules or agent")
    for key in unknown:
        problem(_line_of(lines, f"{key}:"), 1, "unknown-key",
                f"unknown front matter key '{key}'")
    script_id = front.get("id")
    if script_id is not None and (not isinstance(script_id, str) or script_id != stem
                                  or not _ID.match(script_id)):
        problem(_line_of(lines, "id:"), 1, "bad-name",
                f"id '{script_id}' must equal the file name '{stem}' (lowercase letters, "
                "digits, underscores)")
    declared = front.get("variables") or []
    if not isinstance(declared, list) or not all(isinstance(v, str) for v in declared):
        problem(_line_of(lines, "variables:"), 1, "wrong-type",
                "'variables' takes a list of names")
        declared = []
    try:  # compiling finds unknown filters and tests (TemplateAssertionError) too
        tree = env.parse(source)
        used = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:
        problem(exc.lineno or 1, 1, "template-syntax", exc.message or "template syntax error",
                _syntax_hint(exc.message or "", env))
        return None
    refused = template_features(tree)
    if refused is not None:
        problem(refused[0], 1, "template-feature", refused[1],
                "reply templates use {{ variables }}, filters, if/else and one for over "
                "deadlines (docs/scripts.md)")
        return None
    for var in sorted(used - CONTEXT_VARIABLES):
        line, column = _use_of(lines, var)
        problem(line, column, "unknown-variable",
                f"variable '{var}' is not in the reply context",
                "the context has: " + ", ".join(sorted(CONTEXT_VARIABLES)))
    if set(declared) != used & CONTEXT_VARIABLES and not used - CONTEXT_VARIABLES:
        problem(_line_of(lines, "variables:"), 1, "conflict",
                f"'variables' lists {sorted(declared)} but the template uses "
                f"{sorted(used)}", "list exactly the variables the template uses")
    # The template's own words (tags blanked out, so offsets keep their lines).
    words = _TAG.sub(lambda m: "".join(ch if ch == "\n" else " " for ch in m.group()), source)
    for finding in guard.check(words):
        line = words.count("\n", 0, finding.start) + 1
        column = finding.start - (words.rfind("\n", 0, finding.start) + 1) + 1
        problem(line, column, "forbidden-phrase",
                f"'{finding.matched}' is a forbidden phrase ({finding.reason})",
                f"say instead: {finding.suggestion}")
    if len(problems) > before:
        return None
    pieces = _bounded(env.from_string(tree), name)
    render = _trimmed(pieces)
    failure = _sample_failure(render)
    if failure is not None:
        problem(failure.line or 1, 1, "template-error",
                f"the template fails to render: {failure.message}",
                "reply templates use only the context variables, if and for")
        return None

    return Script(stem, str(front["title"]), str(front["situation"]), tuple(declared), name,
                  str(front.get("use", "rules")), render, pieces, _literal_texts(env, tree))


def _bounded(template: Template, name: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """The pieces ``template`` yields, stopping past ``MAX_REPLY_CHARS`` in all.

    Runs Jinja's compiled function as ``Template.generate`` does, without its extra
    generator layer and context copy (the context is copied here, once). Any failure is
    raised as ``RenderError`` naming the template file ``name`` and the template line.
    """
    root = template.root_render_func
    new_context = template.new_context
    handle_exception = template.environment.handle_exception

    def pieces(context: Mapping[str, Any]) -> list[str]:
        parts: list[str] = []
        size = 0
        try:
            for piece in root(new_context(dict(context), shared=True)):
                size += len(piece)
                if size > MAX_REPLY_CHARS:
                    raise SecurityError(
                        f"the reply is longer than {MAX_REPLY_CHARS:,} characters")
                parts.append(piece)
        except Exception:
            try:
                handle_exception()  # raises, with the template's lines in the traceback
            except Exception as exc:
                raise RenderError(f"{type(exc).__name__}: {exc}", template=name,
                                  line=_template_line(exc)) from exc
        return parts

    return pieces


def _trimmed(pieces: Callable[[Mapping[str, Any]], list[str]]
             ) -> Callable[[Mapping[str, Any]], str]:
    """The whole reply, without surrounding blank space."""
    def render(context: Mapping[str, Any]) -> str:
        return "".join(pieces(context)).strip()

    return render


def _literal_texts(env: ReplySandbox, tree: nodes.Template) -> frozenset[str]:
    """The runs of literal text the compiled ``tree`` yields as single pieces.

    Jinja joins an output's adjacent constant parts (template data, and expressions it
    can evaluate when compiling) into one piece; this groups them the same way, so that
    a converter can prepare them when the policy loads. A run grouped differently is
    still converted correctly, only later (``replies.ReplyWriter``).
    """
    eval_ctx = nodes.EvalContext(env)
    texts: set[str] = set()
    for output in tree.find_all(nodes.Output):
        run: list[str] = []
        for child in output.nodes:
            try:
                run.append(str(child.as_const(eval_ctx)))
            except Exception:  # as in Jinja's compiler: evaluated when rendering
                if run:
                    texts.add("".join(run))
                run = []
        if run:
            texts.add("".join(run))
    return frozenset(texts)


def _sample_failure(render: Callable[[Mapping[str, Any]], str]) -> RenderError | None:
    """The error a template raises on the sample contexts, if any."""
    for sample in SAMPLE_CONTEXTS:
        try:
            render(sample)
        except RenderError as exc:  # any failure of the template itself, found at load
            return exc
    return None


def _template_line(exc: BaseException) -> int | None:
    """The template line a rendering error comes from, from its traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _display(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _line_of(lines: list[str], needle: str) -> int:
    return next((i + 1 for i, line in enumerate(lines) if needle in line), 1)


def _use_of(lines: list[str], var: str) -> tuple[int, int]:
    pattern = re.compile(r"\b" + re.escape(var) + r"\b")
    for i, line in enumerate(lines):
        for tag in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}", line):
            hit = pattern.search(line, tag.start(), tag.end())
            if hit:
                return i + 1, hit.start() + 1
    return 1, 1


def _syntax_hint(message: str, env: ReplySandbox) -> str | None:
    """What to write instead, for the syntax mistakes policy staff make most."""
    if message.startswith("No filter named"):
        return "filters here: " + ", ".join(sorted(env.filters))
    if message.startswith("No test named"):
        return "tests here: " + ", ".join(sorted(env.tests))
    if "unexpected '}'" in message:
        return "a variable is written {{ name }} with two braces on each side"
    return None
