"""The complaint record: what a customer-service system hands to the policy.

Records come as ``Complaint`` objects, dicts or JSON lines; a bad record is rejected with a
``ComplaintError`` that names every wrong field in plain words.
"""

from __future__ import annotations

import difflib
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
)

from .errors import ComplaintError, FieldIssue

#: How deeply ``attributes`` may nest (dicts and lists), checked before anything else.
MAX_ATTRIBUTE_DEPTH = 16
#: The years a ``received_at`` may fall in: far enough for any real record, and room left
#: for deadlines after it without leaving the range dates can hold.
RECEIVED_YEARS = (1900, 2999)


class Channel(StrEnum):
    """How the complaint reached the company (渠道)."""

    PHONE = "phone"
    VISIT = "visit"
    LETTER = "letter"
    EMAIL = "email"
    FAX = "fax"
    WEB = "web"
    FACTORY_SYSTEM = "factory_system"
    ONSITE_VERBAL = "onsite_verbal"
    CALLBACK = "callback"
    KEY_ACCOUNT_VISIT = "key_account_visit"
    OTHER = "other"


class RequestType(StrEnum):
    """What the customer asks for: the five kinds of 客户投诉 in the broad sense, and praise."""

    COMPLAINT = "complaint"
    REPAIR = "repair"
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"
    CHALLENGE = "challenge"
    PRAISE = "praise"


class Handling(StrEnum):
    """General problems are answered at once; special ones go to a manager and a negotiation."""

    GENERAL = "general"
    SPECIAL = "special"


class Demand(StrEnum):
    """What the customer explicitly asks for, as recorded by the agent."""

    COMPENSATION = "compensation"
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    CORRECTIVE_ACTION = "corrective_action"
    APOLOGY = "apology"
    DESIGN_CHANGE = "design_change"


class _Record(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, str_strip_whitespace=False
    )


def _valid_unicode(value: str) -> str:
    """Reject lone surrogates: they are not text, and no encoder accepts them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode: a lone surrogate (U+{ord(value[exc.start]):04X})"
                         f" at character {exc.start}") from None
    return value


Text = Annotated[str, AfterValidator(_valid_unicode)]
ShortStr = Annotated[str, Field(max_length=200), AfterValidator(_valid_unicode)]


class Customer(_Record):
    """Who complains; ``title`` is the form of address staff use (先生, 女士)."""

    id: ShortStr | None = None
    name: ShortStr | None = None
    title: ShortStr | None = None
    tier: ShortStr | None = None
    locale: ShortStr | None = None


class Product(_Record):
    """What the complaint is about; ``domain`` selects the domain rules of the policy."""

    domain: ShortStr | None = None
    line: ShortStr | None = None
    model: ShortStr | None = None
    purchase_date: date | None = None
    lot: ShortStr | None = None


class Complaint(_Record):
    """One complaint record. Only ``id``, ``text`` and ``channel`` are required.

    ``received_at`` may be naive: the policy then reads it in its own time zone.
    ``attributes`` holds anything else a custom rule may test (``attributes.score``).
    """

    id: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_valid_unicode)]
    text: Text
    channel: Channel
    request_type: RequestType | None = None
    received_at: datetime | None = None
    customer: Customer | None = None
    product: Product | None = None
    #: Strict: ``true`` or ``"2"`` is a mistake in the intake system, not a count.
    prior_rejections: Annotated[int, Field(ge=0, le=1_000, strict=True)] = 0
    demands: tuple[Demand, ...] = ()
    attributes: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("attributes", mode="before")
    @classmethod
    def _shallow_enough(cls, value: Any) -> Any:
        # before pydantic walks it: 5,000 levels would hit its recursion limit first
        if _depth(value) > MAX_ATTRIBUTE_DEPTH:
            raise ValueError(f"nested deeper than {MAX_ATTRIBUTE_DEPTH} levels")
        return value

    @field_validator("attributes")
    @classmethod
    def _writable(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if value:  # keys and strings must be text that can be written out again
            _valid_unicode(json.dumps(value, ensure_ascii=False))
        return value

    @field_validator("received_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and not RECEIVED_YEARS[0] <= value.year <= RECEIVED_YEARS[1]:
            raise ValueError(f"year {value.year} is outside {RECEIVED_YEARS[0]}-"
                             f"{RECEIVED_YEARS[1]}")
        return value

    @field_validator("demands")
    @classmethod
    def _unique_demands(cls, value: tuple[Demand, ...]) -> tuple[Demand, ...]:
        return tuple(dict.fromkeys(value))


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_ATTRIBUTE_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def blank_line(line: str | bytes) -> bool:
    """A line of JSON lines input with nothing but JSON's whitespace (space, tab, CR, LF):
    skipped, though counted. Other control characters make the line a (bad) record."""
    if isinstance(line, bytes):
        return not line.strip(b" \t\r\n")
    return not line.strip(" \t\r\n")


def _without_bom(line: str | bytes) -> str | bytes:
    """A JSON line without the byte-order mark an editor may put at the start of a file
    (JSON itself never starts with one)."""
    if isinstance(line, bytes):
        return line[3:] if line.startswith(b"\xef\xbb\xbf") else line
    return line[1:] if line.startswith("\ufeff") else line


def parse_complaint(record: Complaint | dict[str, Any] | str | bytes) -> Complaint:
    """Validate a record given as a ``Complaint``, a dict or one JSON line.

    Raises ``ComplaintError`` listing every wrong field, never pydantic's own error.
    """
    if isinstance(record, Complaint):
        return record
    try:
        if isinstance(record, str | bytes):
            return Complaint.model_validate_json(_without_bom(record))
        if isinstance(record, dict):
            return Complaint.model_validate(record)
    except ValidationError as exc:
        raise _complaint_error(exc, record) from None
    except (RecursionError, ValueError) as exc:
        raise ComplaintError([FieldIssue("", f"unreadable record: {exc}")]) from None
    raise ComplaintError(
        [FieldIssue("", f"expected a JSON object, found {type(record).__name__}")]
    )


_FIELD_NAMES: dict[tuple[str, ...], list[str]] = {
    (): list(Complaint.model_fields),
    ("customer",): list(Customer.model_fields),
    ("product",): list(Product.model_fields),
}


def _complaint_error(exc: ValidationError, record: Any) -> ComplaintError:
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(str(p) for p in err["loc"])
        kind = err["type"]
        where = ".".join(loc)
        if kind == "json_invalid":
            issues.append(FieldIssue("", f"not valid JSON: {err['ctx'].get('error', err['msg'])}"))
        elif kind == "model_type" or (kind == "model_attributes_type" and not loc):
            issues.append(FieldIssue(where, "expected a JSON object"))
        elif kind == "extra_forbidden":
            known = _FIELD_NAMES.get(loc[:-1], [])
            close = difflib.get_close_matches(loc[-1], known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            issues.append(FieldIssue(where, f"unknown field{hint}"))
        elif kind == "missing":
            issues.append(FieldIssue(where, "required field is missing"))
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            issues.append(
                FieldIssue(where, f"{err.get('input')!r} is not allowed; expected {expected}")
            )
        else:
            issues.append(FieldIssue(where, err["msg"].removeprefix("Value error, ")))
    complaint_id = None
    if isinstance(record, dict) and isinstance(record.get("id"), str | int):
        complaint_id = str(record["id"])
    return ComplaintError(issues, complaint_id=complaint_id)
