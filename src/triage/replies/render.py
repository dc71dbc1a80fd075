"""Writing the reply: the context a script gets, rendering, and Traditional Chinese output.

The context holds only values derived from the decision and the record (how to address
the customer, labels, due times as staff say them), never the complaint text. When the
complaint is written in Traditional Chinese, or the customer's locale is zh-Hant, zh-HK,
zh-MO or zh-TW, the reply is converted with OpenCC: Hong Kong and Taiwan forms and
vocabulary where OpenCC has them (docs/scripts.md records the measurements behind the
choice). It is converted piece by piece as the template yields them, each run of the
template's words and each value on its own: what the policy fixes (the templates' words,
labels, role names) once when the policy loads, the rest (dates, due times) when the
reply is written; the values the customer gave (the name as addressed, the case number)
are never converted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import opencc

from ..complaint import Complaint
from ..deadlines.planner import Deadline
from ..decision import Reply, RoleRef
from ..text.folding import fold, has_traditional

if TYPE_CHECKING:
    from .scripts import ScriptLibrary

#: Reply locale -> OpenCC configuration.
CONVERSIONS: Mapping[str, str] = MappingProxyType(
    {"zh-Hant": "s2t", "zh-HK": "s2hk", "zh-TW": "s2twp"})
_LOCALES = {"zh-hant": "zh-Hant", "zh-hk": "zh-HK", "zh-mo": "zh-HK", "zh-tw": "zh-TW",
            "zh-hant-hk": "zh-HK", "zh-hant-tw": "zh-TW", "zh-hant-mo": "zh-HK"}
NEUTRAL_ADDRESS = "您"


def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    """The one- and two-character surnames of ``_data/surnames.txt`` (read once)."""
    text = resources.files("triage").joinpath("_data/surnames.txt").read_text("utf-8")
    names = {n for line in text.splitlines() if not line.startswith("#")
             for n in line.split()}
    return (frozenset(n for n in names if len(n) == 1),
            frozenset(n for n in names if len(n) == 2))


#: Surnames, Simplified (a name is folded before it is looked up); never changed.
SURNAMES, COMPOUND_SURNAMES = _surnames()
#: Unicode categories removed from the customer's values before they reach a reply:
#: controls (Cc) and format characters (Cf: bidi overrides such as U+202E, zero widths).
_INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def clean_value(value: str) -> str:
    """A value the customer gave, without control and bidi characters (U+202E would turn
    the rest of the reply around), trimmed."""
    return _INVISIBLE.sub("", value).strip()


def address(complaint: Complaint, neutral: str = NEUTRAL_ADDRESS) -> str:
    """How to address the customer: a real surname and the title (王先生, 欧阳女士), or
    ``neutral`` (您) when the name starts with no known surname (John Smith, {{ 7*7 }})."""
    customer = complaint.customer
    if customer is None or not customer.name or customer.title not in ("先生", "女士"):
        return neutral
    name = clean_value(customer.name)
    folded = fold(name[:2])
    if len(folded) == 2 and folded in COMPOUND_SURNAMES:
        return name[:2] + customer.title
    if folded[:1] in SURNAMES:
        return name[:1] + customer.title
    return neutral


def reply_locale(complaint: Complaint) -> str:
    """zh-Hans, or the Traditional locale the reply is converted to."""
    customer = complaint.customer
    if customer is not None and customer.locale:
        known = _LOCALES.get(customer.locale.strip().lower().replace("_", "-"))
        if known is not None:
            return known
    return "zh-Hant" if has_traditional(complaint.text) else "zh-Hans"


class _Conversion:
    """One Traditional locale: its OpenCC converter, and the policy's fixed texts converted
    once at load (the templates' literal texts, labels, role names, company, hotline).

    A reply is converted piece by piece, as its template yields them: a text known at
    load is looked up, anything else (dates, a label joined with other text) is converted
    when the reply is written, except the values the customer gave (``keep``: their name
    as addressed, the case number), which stay as written wherever they occur: the
    surname 于 must not become 於. The table is never added to.
    """

    __slots__ = ("_convert", "_known")

    def __init__(self, converter: opencc.OpenCC, texts: Iterable[str]) -> None:
        self._convert: Callable[[str], str] = converter.convert
        self._known = MappingProxyType({text: self._convert(text) for text in texts})

    def join(self, pieces: Iterable[str], keep: Sequence[str] = ()) -> str:
        """The pieces converted and joined; each text of ``keep`` left as it is."""
        known, convert = self._known.get, self._convert
        out = []
        for piece in pieces:
            text = known(piece)
            if text is None:
                text = (self._convert_around(piece, keep)
                        if keep and any(k in piece for k in keep) else convert(piece))
            out.append(text)
        return "".join(out)

    def _convert_around(self, piece: str, keep: Sequence[str]) -> str:
        """``piece`` converted, but for the occurrences of ``keep``'s texts: the leftmost
        first, the longest of those starting at one place. Found with ``str.find``: a regex
        of the customer's values would be compiled anew for nearly every reply."""
        texts = sorted({k for k in keep if k}, key=len, reverse=True)
        convert, out, done = self._convert, [], 0
        while True:
            at, kept = len(piece), ""
            for text in texts:  # longest first: a later one must start strictly earlier
                found = piece.find(text, done, at + len(text) - 1)
                if found >= 0 and found < at:
                    at, kept = found, text
            if not kept:
                break
            out += [convert(piece[done:at]), kept]
            done = at + len(kept)
        out.append(convert(piece[done:]))
        return "".join(out)


class ReplyWriter:
    """Compiled once per policy: the scripts, the labels and the converters."""

    __slots__ = ("_company", "_conversions", "_hotline", "_labels", "_neutral", "_scripts")

    def __init__(self, scripts: ScriptLibrary | None, labels: Mapping[str, Mapping[str, str]],
                 role_names: Iterable[str], company: str | None, hotline: str | None,
                 neutral_address: str = NEUTRAL_ADDRESS) -> None:
        self._scripts = scripts
        self._neutral = neutral_address
        self._labels = labels
        self._company = company or "我们"
        self._hotline = hotline or ""
        fixed: set[str] = set()
        if scripts is not None:
            fixed.update(*(s.texts for s in scripts.scripts.values()))
            fixed.update(*(table.values() for table in labels.values()))
            fixed.update(role_names)
            fixed.update((self._company, self._hotline, neutral_address))
        self._conversions = MappingProxyType(
            {locale: _Conversion(opencc.OpenCC(config), fixed)
             for locale, config in CONVERSIONS.items()}
            if scripts is not None else {})

    def write(self, script_id: str, complaint: Complaint, received: datetime,
              outputs: Mapping[str, Any], owner: RoleRef,
              deadlines: Sequence[Deadline]) -> Reply:
        """Render script ``script_id`` for a decided complaint."""
        assert self._scripts is not None  # validation requires scripts for a script stage
        script = self._scripts[script_id]
        labels = self._labels
        context = {
            "address": address(complaint, self._neutral),
            "case_number": clean_value(complaint.id),
            "received_date": f"{received.month}月{received.day}日",
            "request_type_label": labels["request_type"].get(outputs["request_type"],
                                                             outputs["request_type"]),
            "category_label": labels["category"].get(outputs["category"],
                                                     outputs["category"]),
            "severity_label": labels["severity"].get(outputs["severity"],
                                                     outputs["severity"]),
            "owner": owner.name,
            "hotline": self._hotline,
            "company": self._company,
        }
        if "deadlines" in script.variables:  # the only costly value: made when used
            context["deadlines"] = tuple(
                MappingProxyType({"label": d.label, "due_text": d.due_text})
                for d in deadlines)
        locale = reply_locale(complaint)
        conversion = self._conversions.get(locale)
        if conversion is None:
            text = script.render(context)  # checked at load with sample values
        else:
            given = [context["address"]] if context["address"] != self._neutral else []
            if context["case_number"]:
                given.append(context["case_number"])
            text = conversion.join(script.pieces(context), given).strip()
        used = {k: context[k] for k in script.variables if k in context}
        return Reply(script_id, text, MappingProxyType(used), locale)
