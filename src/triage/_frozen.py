"""Building frozen slotted dataclasses on hot paths, without their generated ``__init__``.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` and parses
keywords; routing builds a Decision, its Deadlines and their DueTimes for every complaint.
Filling the slots directly gives the same object in about half the time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def positional_builder(cls: type[T]) -> Callable[..., T]:
    """A function building ``cls`` from all its field values, in declaration order.

    Generated once per class: one slot setter call per field, unrolled (a loop over the
    setters cost a third of the build). The source holds only numbered names.
    """
    fields: dict[str, Any] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    names = [f"v{i}" for i in range(len(fields))]
    namespace: dict[str, Any] = {"__builtins__": {}, "new": object.__new__, "cls": cls}
    namespace.update({f"s{i}": cls.__dict__[name].__set__ for i, name in enumerate(fields)})
    source = (f"def build({', '.join(names)}):\n    made = new(cls)\n"
              + "".join(f"    s{i}(made, {v})\n" for i, v in enumerate(names))
              + "    return made\n")
    exec(compile(source, f"<builder of {cls.__name__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    return build
