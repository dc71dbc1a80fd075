"""Micro-benchmark: ways to find the default policy's words in folded complaint texts.

Compares ``word in text`` per word, a ``str.find`` loop, one pyahocorasick ``iter`` pass, an
RE2 alternation ``finditer``, an RE2 set ``Match`` and the engine's own finder; prints µs per
text by text length and the ratio to Aho-Corasick.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import ahocorasick
import re2
import yaml
from synthetic import generate

import triage
from triage.text.folding import fold

Matcher = Callable[[str], Any]
#: Text length buckets (characters, inclusive upper bounds) reported separately.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("all", 0, 10**9), ("<=40", 0, 40), ("41-120", 41, 120), (">120", 121, 10**9),
)


def policy_words(policy: triage.Policy) -> list[str]:
    """The folded words of the policy's automaton; from the YAML vocabularies if not exposed."""
    words = getattr(policy, "_word_ids", None)
    if words:
        return list(words)
    found: dict[str, None] = {}
    for path in sorted(policy.path.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for spec in (data.get("vocabularies") or {}).values():
            items = spec.get("words", []) if isinstance(spec, dict) else spec
            for word in items:
                if not str(word).startswith("$"):
                    found[fold(str(word))] = None
    return list(found)


def by_in(words: Sequence[str]) -> Matcher:
    """(a) ``word in text`` for every word: which words occur (no positions)."""
    def match(text: str) -> list[str]:
        return [w for w in words if w in text]
    return match


def by_find(words: Sequence[str]) -> Matcher:
    """(b) ``str.find`` loop: every occurrence of every word, with its position."""
    def match(text: str) -> list[tuple[int, str]]:
        out = []
        for word in words:
            start = text.find(word)
            while start != -1:
                out.append((start, word))
                start = text.find(word, start + 1)
        return out
    return match


def by_automaton(words: Sequence[str]) -> Matcher:
    """(c) one Aho-Corasick pass (pyahocorasick ``iter``): every occurrence, overlaps included."""
    automaton = ahocorasick.Automaton()
    for i, word in enumerate(words):
        automaton.add_word(word, (i, len(word)))
    automaton.make_automaton()

    def match(text: str) -> list[tuple[int, int]]:
        return [(end - length + 1, i) for end, (i, length) in automaton.iter(text)]
    return match


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re2.escape(w) for w in sorted(words, key=len, reverse=True))


def by_re2(words: Sequence[str]) -> Matcher:
    """(d) one RE2 alternation, ``finditer`` on str: leftmost non-overlapping matches only."""
    options = re2.Options()
    options.max_mem = 64 << 20
    pattern = re2.compile(_alternation(words), options)

    def match(text: str) -> list[tuple[int, str]]:
        return [(m.start(), m.group()) for m in pattern.finditer(text)]
    return match


def by_re2_bytes(words: Sequence[str]) -> Matcher:
    """(d') the same RE2 alternation on UTF-8 bytes: no str offset conversion by the wrapper."""
    options = re2.Options()
    options.max_mem = 64 << 20
    pattern = re2.compile(_alternation(words).encode(), options)

    def match(text: str) -> list[tuple[int, bytes]]:
        return [(m.start(), m.group()) for m in pattern.finditer(text.encode())]
    return match


def by_re2_set(words: Sequence[str]) -> Matcher:
    """(e) one RE2 set ``Match``: which words occur (nested and overlapping ones included),
    no positions; the engine finds positions with ``str.find`` only when it needs them."""
    options = re2.Options()
    options.never_capture = True
    options.max_mem = 256 << 20
    matcher = re2.Set.SearchSet(options)
    for word in words:
        matcher.Add(re2.escape(word))
    matcher.Compile()

    def match(text: str) -> list[int]:
        return matcher.Match(text) or []
    return match


def by_engine(policy: triage.Policy) -> Matcher | None:
    """The library's own finder (RE2 set, negation cues), when it is reachable."""
    index = getattr(policy, "_index", None)
    find = getattr(index, "find", None)
    return find if callable(find) else None


def per_text_us(match: Matcher, texts: Sequence[str], repeats: int,
                min_seconds: float = 0.05) -> float:
    """Median over ``repeats`` runs of the mean time per text (µs); a run lasts >= min_seconds."""
    if not texts:
        return float("nan")
    runs = []
    for _ in range(repeats):
        done = 0
        start = time.perf_counter()
        while True:
            for text in texts:
                match(text)
            done += len(texts)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        runs.append(elapsed / done * 1e6)
    return statistics.median(runs)


def main() -> None:
    """Build every matcher over the default policy's words and time them on synthetic texts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer texts and repetitions")
    args = parser.parse_args()
    count, repeats = (1_000, 3) if args.quick else (5_000, 5)

    policy = triage.load_policy()
    words = policy_words(policy)
    texts = [fold(r["text"]) for r in generate(count, seed=0)]
    buckets = {name: [t for t in texts if low <= len(t) <= high] for name, low, high in BUCKETS}

    matchers: list[tuple[str, Matcher]] = []
    for label, build in (("(a) word in text", by_in), ("(b) str.find loop", by_find),
                         ("(c) pyahocorasick iter", by_automaton),
                         ("(d) re2 alternation finditer", by_re2),
                         ("(d') re2 alternation on bytes", by_re2_bytes),
                         ("(e) re2 set Match", by_re2_set)):
        start = time.perf_counter()
        matcher = build(words)
        print(f"built {label} in {(time.perf_counter() - start) * 1000:.1f} ms", file=sys.stderr)
        matchers.append((label, matcher))
    engine = by_engine(policy)
    if engine is not None:
        matchers.append(("(f) triage finder (set + negation)", engine))

    sample = texts[:500]
    found_in = sum(len(set(by_in(words)(t))) for t in sample)
    found_ac = sum(len({words[i] for _, i in matchers[2][1](t)}) for t in sample)
    found_re = sum(len({w for _, w in matchers[3][1](t)}) for t in sample)
    found_set = sum(len(set(matchers[5][1](t))) for t in sample)
    print(f"{len(words)} folded words; {count:,} synthetic texts (median "
          f"{statistics.median(len(t) for t in texts):.0f} chars); median of {repeats} runs")
    print(f"distinct words found in 500 texts: in {found_in}, automaton {found_ac}, "
          f"re2 alternation {found_re} (misses overlapping and nested words), "
          f"re2 set {found_set}\n")

    timings = {label: {name: per_text_us(m, bucket, repeats) for name, bucket in buckets.items()}
               for label, m in matchers}
    reference = timings["(c) pyahocorasick iter"]
    header = " | ".join(f"{name} ({len(buckets[name])})" for name, _, _ in BUCKETS)
    print(f"| method | µs/text: {header} | ratio vs (c), all |")
    print("|---|" + "--:|" * len(BUCKETS) + "--:|")
    for label, row in timings.items():
        cells = " | ".join(f"{row[name]:.2f}" for name, _, _ in BUCKETS)
        print(f"| {label} | {cells} | {row['all'] / reference['all']:.1f}x |")


if __name__ == "__main__":
    main()
