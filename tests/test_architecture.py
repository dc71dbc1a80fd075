"""The package's layers: a module imports only from its own layer or the layers below.

The layers are those of docs/architecture.md, lowest first. Every import counts, the
ones under ``TYPE_CHECKING`` and inside functions included: a type-only import upwards
still ties a lower layer to a higher one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import triage

from .conftest import ROOT

#: Lowest first. A module belongs to the first entry its dotted name starts with.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("triage.errors", "triage._frozen", "triage._json"),
    ("triage.text",),
    ("triage.complaint",),
    ("triage.deadlines",),
    ("triage.decision",),
    ("triage.replies",),
    ("triage.language",),
    ("triage.engine",),
    ("triage.policy", "triage.status"),
    ("triage.history",),
    ("triage.authoring", "triage.testing"),
    ("triage.integrations",),
    ("triage.spark",),
    ("triage.web",),
    ("triage.cli",),
)
PACKAGE = Path(triage.__file__).parent


def _module(path: Path) -> str:
    parts = ["triage", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    for level, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return level
    return None


def _is_module(name: str) -> bool:
    where = PACKAGE.joinpath(*name.split(".")[1:])
    return where.with_suffix(".py").exists() or (where / "__init__.py").exists()


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every triage module ``path`` imports, with the line, relative imports resolved."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [(node.lineno, target)]
            # ``from . import x`` / ``from .pkg import mod`` may name a submodule
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names
                      if _is_module(f"{target}.{a.name}")]
    return [(line, name) for line, name in found if name.startswith("triage")]


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts)


def test_every_module_has_a_layer() -> None:
    """Each module of the package sits in one of the documented layers."""
    missing = [_module(p) for p in _sources()
               if _module(p) != "triage" and _layer(_module(p)) is None]
    assert missing == []


def _upward(path: Path, source: str | None = None) -> list[str]:
    here = _module(path)
    mine = _layer(here)
    assert mine is not None, here
    return [f"{path.relative_to(PACKAGE)}:{line}: {here} imports {name}"
            for line, name in _imports(path, source)
            if (theirs := _layer(name)) is not None and theirs > mine]


def test_no_module_imports_a_higher_layer() -> None:
    """A lower layer never imports a higher one (language never imports engine, nothing the CLI)."""
    # the public front (triage/__init__.py) re-exports from every layer
    assert [line for p in _sources() if _module(p) != "triage" for line in _upward(p)] == []


def test_the_check_sees_upward_imports() -> None:
    """Relative, absolute and type-only imports upwards are each reported, with the line."""
    source = ("from __future__ import annotations\n"
              "from typing import TYPE_CHECKING\n"
              "from ..engine.codegen import Fired\n"
              "import triage.cli\n"
              "if TYPE_CHECKING:\n    from .. import policy\n"
              "from ..deadlines.calendar import BusinessCalendar\n")
    wrong = _upward(PACKAGE / "language" / "validate.py", source)
    assert [w.split(": ", 1)[0] for w in wrong] == [
        "language/validate.py:3", "language/validate.py:4", "language/validate.py:6"]


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGE.iterdir()
                                           if (p / "__init__.py").exists()))
def test_each_subpackage_says_what_it_owns_and_may_import(package: str) -> None:
    """Every subpackage's docstring names what it owns and what it may import."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8")))
    assert doc and re.search(r"\bOwns\b", doc) and re.search(r"\bimport", doc), package


def test_the_architecture_page_lists_every_subpackage() -> None:
    """docs/architecture.md describes each subpackage of the layout."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert f"triage/{package}/" in text, package
