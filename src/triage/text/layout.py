"""How a complaint reads: its clauses and sentences, questions, and whose words are whose.

A complaint mixes the customer's own words, an agent's notes and findings
(（服务顾问备注：…）, 【备注】…, 经检测…) and speech the customer reports from the company
(你们说…, 客服说…, 答复…, 承诺…). ``Reading`` holds the markers of each (built in,
replaceable per policy) and lays out a folded text once: clause and sentence boundaries,
which sentences are questions, and which part each character belongs to. Positional tests
(``near``, ``in:``, ``sentence:``) read the layout; it is built only for a complaint that
reaches such a test, once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .folding import CLAUSE_BREAKS, fold

Part = Literal["customer", "note", "reported"]
PARTS: tuple[Part, ...] = ("customer", "note", "reported")

#: Characters that end a sentence (a line break too).
SENTENCE_BREAKS = frozenset("。！？!?；;\n\r…")

#: Built-in markers, in folded (Simplified, half-width) form. A policy replaces any list
#: under ``policy: {reading: {...}}``.
DEFAULT_MARKERS: Mapping[str, tuple[str, ...]] = {
    # a bracketed stretch whose text starts with one of these is an agent's note; a
    # bracket that is only a label (（上门工单）, 【备注】) makes the rest of the text a note
    "note_brackets": ("备注", "注:", "注：", "客服备注", "坐席", "服务顾问", "顾问备注", "技师",
                      "工程师", "师傅", "检测", "检查", "核实", "核查", "记录", "处理意见",
                      "结论", "判定", "鉴定", "勘查", "现场", "经查", "agent", "note"),
    # a sentence starting with one of these (after a label such as 【备注】) is a note
    "note_sentences": ("经检测", "经检查", "经核实", "经查", "检测结果", "检测发现", "检查发现",
                       "检查结果", "技师检查", "技师反馈", "工程师检测", "工程师判定", "工程师反馈",
                       "现场勘查", "现场查看", "鉴定结果", "核实发现", "备注", "客服备注",
                       "坐席备注", "处理意见", "结论", "师傅上门检查", "师傅检查", "师傅检测",
                       "上门检查", "到场检查", "到场检测", "现场检查", "技师到场", "工程师上门",
                       "远程查询", "询问后得知", "经询问", "经与客户确认", "经引导", "到店检查",
                       "拆机见", "拆机发现", "工程师现场检查", "检测记录", "复检记录", "复查记录",
                       "技师复查", "现场取证", "坐席解释", "坐席指导", "客服查看", "客服说明",
                       "工程部上门检查", "维修工程师上门"),
    # from one of these to the end of the clause (or the closing quote) is reported speech
    "reported": ("你们说", "你们讲", "你们答复", "你们回复", "你们承诺", "你们保证", "你们告诉我",
                 "客服说", "客服讲", "客服回复", "客服答复", "客服承诺", "销售说", "销售承诺",
                 "店里说", "店家说", "他们说", "他们讲", "对方说", "师傅说", "技师说", "经理说",
                 "工作人员说", "物业说", "商家说", "卖家说", "答复说", "回复说", "答复是",
                 "承诺", "保证", "说好", "告诉我说", "跟我说", "说是", "声称", "你哋话", "佢哋话",
                 "客服話", "你們說", "客服說", "还说", "却说", "竟然说", "竟说", "硬说", "一口咬定",
                 "又说", "都说"),
    # a sentence with one of these, or ending in ？/?, is a question
    "question": ("?", "吗", "嘛", "呢", "么", "嗎", "咩", "是不是", "能不能", "可不可以", "可以不",
                 "会不会", "有没有", "要不要", "怎么", "怎样", "如何", "为什么", "为何", "凭什么",
                 "点解", "點解", "几时", "多久", "多少钱", "什么时候", "何时", "哪里", "哪儿",
                 "请问", "请教", "想问", "想咨询", "咨询一下", "問下", "问下"),
}
#: Words that make a bracket an agent's note wherever they stand in its first dozen
#: characters: （售后工程师检测记录）, （柜台备注：…）, 【工程部现场查看记录】.
_NOTE_WORDS = ("备注", "记录", "纪录", "检测", "检查", "查看", "核实", "核查", "查核", "复核",
               "复检", "勘查", "结论", "判定", "判断", "鉴定", "工单", "处理结果", "解答", "跟进")
_BRACKETS = re.compile("[（(【\\[「『]")
_CLOSERS = {"（": "）", "(": ")", "【": "】", "[": "]", "「": "」", "『": "』", "“": "”", '"': '"'}


@dataclass(frozen=True, slots=True)
class Reading:
    """The markers a policy reads complaints with; compiled once, shared by all."""

    markers: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_MARKERS)
    _reported: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _questions: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _note_hint: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        merged = {**DEFAULT_MARKERS,
                  **{k: tuple(fold(w) for w in v) for k, v in self.markers.items()}}
        object.__setattr__(self, "markers", merged)
        object.__setattr__(self, "_reported", _alternatives(merged["reported"]))
        object.__setattr__(self, "_questions", _alternatives(merged["question"]))
        object.__setattr__(self, "_note_hint", re.compile(
            "[（(【\\[「『]|" + _alternatives(merged["note_sentences"]).pattern))

    def lay_out(self, folded: str) -> Layout:
        """The layout of one folded text."""
        return Layout(self, folded)


def _alternatives(words: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in ordered) if ordered else r"(?!)")


class Layout:
    """Clauses, sentences, questions and parts of one text, by character offset.

    Each facet is worked out the first time a test asks for it (a ``same: sentence`` test
    needs sentence boundaries only, an ``in: note`` test the parts), then kept.
    """

    __slots__ = ("_clause_starts", "_notes", "_parts", "_questions", "_reading",
                 "_sentence_starts", "_text")

    def __init__(self, reading: Reading, text: str) -> None:
        self._reading = reading
        self._text = text
        self._clause_starts: tuple[int, ...] | None = None
        self._sentence_starts: tuple[int, ...] | None = None
        self._questions: frozenset[int] | None = None
        self._parts: tuple[tuple[int, ...], tuple[Part, ...]] | None = None
        self._notes: list[tuple[int, int, Part]] | None = None

    def _clauses(self) -> tuple[int, ...]:
        if self._clause_starts is None:
            self._clause_starts = _unit_starts(self._text, CLAUSE_BREAKS)
        return self._clause_starts

    def _sentences(self) -> tuple[int, ...]:
        if self._sentence_starts is None:
            self._sentence_starts = _unit_starts(self._text, SENTENCE_BREAKS)
        return self._sentence_starts

    def clause(self, offset: int) -> int:
        """The number of the clause holding ``offset``."""
        return bisect_right(self._clauses(), offset) - 1

    def sentence(self, offset: int) -> int:
        """The number of the sentence holding ``offset``."""
        return bisect_right(self._sentences(), offset) - 1

    def is_question(self, offset: int) -> bool:
        """True when the sentence holding ``offset`` asks something."""
        if self._questions is None:
            starts, text = self._sentences(), self._text
            bounds = [*starts[1:], len(text)]
            search = self._reading._questions.search
            self._questions = frozenset(i for i, (start, end) in enumerate(
                zip(starts, bounds, strict=True)) if search(text, start, end))
        return self.sentence(offset) in self._questions

    def part(self, offset: int) -> Part:
        """Whose words the character at ``offset`` is: customer, note or reported."""
        if self._parts is None:
            self._parts = self._lay_out_parts()
        ends, kinds = self._parts
        return kinds[bisect_right(ends, offset)]

    def in_part(self, offset: int, part: str) -> bool:
        """True when the character at ``offset`` belongs to ``part``. Asking for ``note``
        needs the notes only (they win over reported speech), not the whole layout."""
        if part == "note" and self._parts is None:
            return any(a <= offset < b for a, b, _ in self._note_spans())
        return self.part(offset) == part

    def _note_spans(self) -> list[tuple[int, int, Part]]:
        if self._notes is None:
            text = self._text
            if not self._reading._note_hint.search(text):
                self._notes = []  # no bracket and no finding opener: no note at all
            else:
                starts = self._sentences()
                self._notes = _note_spans(text, self._reading.markers, self._clauses(), starts,
                                          [*starts[1:], len(text)])
        return self._notes

    def _lay_out_parts(self) -> tuple[tuple[int, ...], tuple[Part, ...]]:
        text, reading = self._text, self._reading
        spans = list(self._note_spans())
        spans += _reported_spans(text, reading._reported, spans)
        spans.sort(key=lambda s: (s[0], -s[1]))  # at one start, the longest span
        ends: list[int] = []
        kinds: list[Part] = []
        at = 0
        for start, end, kind in spans:
            if start < at:
                continue  # nested in an earlier span: the earlier one decides
            if start > at:
                ends.append(start)
                kinds.append("customer")
            ends.append(end)
            kinds.append(kind)
            at = end
        ends.append(len(text) + 1)
        kinds.append("customer")
        return tuple(ends), tuple(kinds)


_RUNS = {breaks: re.compile("[" + "".join(re.escape(ch) for ch in sorted(breaks)) + "]+")
         for breaks in (CLAUSE_BREAKS, SENTENCE_BREAKS)}


def _unit_starts(text: str, breaks: frozenset[str]) -> tuple[int, ...]:
    """Where each clause (or sentence) begins: 0 and after each run of break characters."""
    return (0, *(m.end() for m in _RUNS[breaks].finditer(text) if m.end() < len(text)))


def _note_spans(text: str, markers: Mapping[str, Sequence[str]], clauses: Sequence[int],
                starts: Sequence[int], ends: Sequence[int]) -> list[tuple[int, int, Part]]:
    """Bracketed notes (（备注：…）); a bracket that is only a label (【备注】, （上门工单）)
    and everything after it; a clause that opens with a finding (经检测…) to the end of its
    sentence."""
    spans: list[tuple[int, int, Part]] = []
    brackets = tuple(markers["note_brackets"])
    for found in _BRACKETS.finditer(text):
        i = found.start()
        close = text.find(_CLOSERS[found.group()], i + 1)
        if close < 0:
            close = len(text)
        head = text[i + 1:min(close, i + 13)]
        if head.lstrip().startswith(brackets) or any(m in head for m in _NOTE_WORDS):
            # a label alone (（上门工单）, 【检测记录】) heads a record: the rest is the note;
            # a bracket with its own text (（客服备注：已催物流）) is the note itself
            inside = text[i + 1:close]
            label = ":" not in inside and "：" not in inside and close - i <= 14
            spans.append((i, len(text) if label else close + 1, "note"))
    openers = tuple(markers["note_sentences"])

    def sentence_end(offset: int) -> int:
        return ends[bisect_right(starts, offset) - 1]

    for start in clauses:
        if text[start:start + 12].lstrip(" 【】[]():").startswith(openers):
            spans.append((start, sentence_end(start), "note"))
    return spans


def _reported_spans(text: str, reported: re.Pattern[str],
                    notes: list[tuple[int, int, Part]]) -> list[tuple[int, int, Part]]:
    """From a reporting cue (你们说, 客服答复...) to the end of its clause or quote."""
    spans: list[tuple[int, int, Part]] = []
    for match in reported.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b, _ in notes):
            continue
        end = match.end()
        rest = text[end:end + 2]
        quote = next((q for q in "“「\"" if q in rest), None)
        if quote is not None:
            close = text.find(_CLOSERS[quote], text.index(quote, end) + 1)
            stop = close + 1 if close >= 0 else len(text)
        else:
            stop = end
            while stop < len(text) and text[stop] not in CLAUSE_BREAKS:
                stop += 1
            if stop < len(text) and text[stop] in "，,:：" and stop - end <= 1:
                stop += 1  # 客服说：… the speech is the clause after the colon
                while stop < len(text) and text[stop] not in CLAUSE_BREAKS:
                    stop += 1
        spans.append((start, stop, "reported"))
    return spans
