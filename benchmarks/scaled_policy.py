"""Generate valid policies of any size, laid out like ``rules/``, for the benchmarks.

``write_scaled_policy(directory, rules=500)`` writes one file per stage plus the policy,
vocabulary and owner files; rules use words found in the synthetic complaints, so they fire.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import synthetic
import yaml

import triage
from triage.text.folding import fold

#: Share of the rules each stage gets (the rest goes to ``category``).
STAGE_SHARE: dict[str, float] = {
    "request_type": 0.10, "flags": 0.20, "category": 0.30, "severity": 0.15, "handling": 0.05,
    "owner": 0.20,
}
FIRST_HIT = ("request_type", "category", "handling", "owner")
STAGE_FILES: dict[str, str] = {
    "request_type": "request_type.yaml", "flags": "flags.yaml", "category": "category.yaml",
    "severity": "severity.yaml", "handling": "handling.yaml", "owner": "owners.yaml",
}

NEGATION_CUES: tuple[str, ...] = (
    "不是", "并非", "没有", "并没有", "没", "不属于", "不需要", "无需",
)
SEVERITIES: dict[str, str] = {"incidental": "偶发", "general": "一般", "severe": "严重",
                              "critical": "重大"}
BASE_CATEGORIES: dict[str, str] = {"product_quality": "产品质量类", "service": "服务类",
                                   "repair_quality": "维修质量类", "user_caused": "用户问题",
                                   "other": "其它类"}
BASE_FLAGS: dict[str, str] = {"safety": "安全隐患", "media_threat": "媒体威胁",
                              "legal_threat": "法律威胁", "health": "健康受损",
                              "recurrence": "重复发生", "compensation": "经济赔偿"}
#: Base roles: name -> (display name, escalates_to).
BASE_ROLES: dict[str, tuple[str, str | None]] = {
    "cs_agent": ("客服专员", "cs_manager"), "cs_manager": ("客服经理", "general_manager"),
    "general_manager": ("总经理", None), "service_manager": ("售后服务经理", "cs_manager"),
    "qa_engineer": ("质量工程师", "qa_manager"), "qa_manager": ("品保部经理", "general_manager"),
    "counter_manager": ("专柜主管", "cs_manager"), "project_gm": ("项目总经理", "general_manager"),
}
TIERS: tuple[str, ...] = ("vip", "key_account", "gold")
#: RE2 patterns over folded text (lower case, half-width, Simplified).
REGEXES: tuple[str, ...] = (
    r"1[3-9][0-9]{9}", r"[0-9]+次", r"第[二三四五六]次", r"(退|换)货", r"[0-9]{4,}",
    r"等了.{0,6}(天|小时)", r"(app|wifi|bug)", r"要求.{0,8}(赔|退|换)", r"(三|四|五)天",
    r"(一直|始终)(没|不)", r"[a-z]{3,}", r"(上|这)(周|个月)",
)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
#: Characters for words that rarely occur in the synthetic texts.
_NOISE_CHARS = "甲乙丙丁戊己庚辛壬癸鼎鑫磊淼森焱垚犇骉赑晶品众猋燚羴麤"


def _stage_counts(rules: int) -> dict[str, int]:
    """How many rules each stage gets: at least one each, about ``rules`` in all."""
    counts = {s: max(1, int(rules * share)) for s, share in STAGE_SHARE.items()}
    counts["category"] += max(0, rules - sum(counts.values()))
    return counts


def _word_pool(rng: random.Random, seed: int) -> tuple[list[str], list[str]]:
    """(distinct substrings, substrings by occurrence) of synthetic texts, 2-4 characters."""
    distinct: set[str] = set()
    occurrences: list[str] = []
    for record in synthetic.generate(400, seed=seed + 1_000):
        for run in _CJK.findall(fold(record["text"])):
            for size in (2, 3, 4):
                for start in range(len(run) - size + 1):
                    distinct.add(run[start:start + size])
                    if rng.random() < 0.05:
                        occurrences.append(run[start:start + size])
    return sorted(distinct), occurrences


def _vocabularies(rng: random.Random, count: int, seed: int) -> dict[str, Any]:
    """``count`` word lists: substrings of synthetic texts, real nouns and noise words."""
    distinct, occurrences = _word_pool(rng, seed)
    nouns = sorted({fold(p) for ps in synthetic.PRODUCTS.values() for p in ps})
    english = sorted({fold(w) for w in synthetic.ENGLISH})
    vocabularies: dict[str, Any] = {}
    for i in range(count):
        name = f"v{i:03d}"
        if i >= 4 and rng.random() < 0.08:
            included = rng.sample(sorted(vocabularies), 2)
            words: list[str] = [f"${included[0]}", f"${included[1]}", rng.choice(distinct)]
        else:
            words = []
            for _ in range(rng.randint(4, 16)):
                roll = rng.random()
                if roll < 0.55:
                    words.append(rng.choice(distinct))
                elif roll < 0.6:
                    words.append(rng.choice(occurrences))
                elif roll < 0.7:
                    words.append(rng.choice(nouns))
                elif roll < 0.73:
                    words.append(rng.choice(english))
                else:
                    words.append("".join(rng.choices(_NOISE_CHARS, k=rng.randint(2, 4))))
            words = list(dict.fromkeys(words))
        vocabularies[name] = {"description": f"生成的词表 {i}", "words": words}
    return vocabularies


class _RuleMaker:
    """Builds random, valid conditions and outputs for one policy."""

    def __init__(self, rng: random.Random, vocabularies: list[str], words: list[str],
                 common: list[str], taxonomy: dict[str, dict[str, str]],
                 roles: list[str]) -> None:
        self.rng = rng
        self.vocabularies = vocabularies
        self.words = words
        self.taxonomy = taxonomy
        self.roles = roles
        self.common = common

    def terms(self, low: int = 1, high: int = 2) -> list[str]:
        """A few ``$vocabulary`` references and literal words."""
        rng = self.rng
        out = [f"${rng.choice(self.vocabularies)}" if rng.random() < 0.7
               else rng.choice(self.words) for _ in range(rng.randint(low, high))]
        return list(dict.fromkeys(out))

    def field(self) -> dict[str, Any]:
        """One field test over the record fields the synthetic records carry."""
        rng = self.rng
        channels = [c for c, _ in synthetic.CHANNELS]
        choices: list[dict[str, Any]] = [
            {"field": "channel", "eq": rng.choice(channels)},
            {"field": "channel", "in": rng.sample(channels, 3)},
            {"field": "channel", "ne": "phone"},
            {"field": "prior_rejections", "gte": rng.randint(1, 3)},
            {"field": "prior_rejections", "between": [1, rng.randint(2, 4)]},
            {"field": "product.domain", "eq": rng.choice(synthetic.DOMAINS)},
            {"field": "product.domain", "in": rng.sample(synthetic.DOMAINS, 2)},
            {"field": "product.domain", "not_in": rng.sample(synthetic.DOMAINS, 2)},
            {"field": "demands", "contains": rng.choice(synthetic.DEMANDS)},
            {"field": "demands", "contains": rng.sample(synthetic.DEMANDS, 2)},
            {"field": "customer.tier", "in": list(TIERS)},
            {"field": "customer.title", "exists": True},
            {"field": "product.lot", "exists": True},
            {"field": "product.purchase_date",
             "gte": f"202{rng.randint(4, 5)}-0{rng.randint(1, 9)}-01"},
            {"field": "attributes.order_amount", "gt": rng.choice((1_000, 10_000, 100_000))},
        ]
        return rng.choice(choices)

    def output_test(self, stage: str) -> dict[str, Any] | None:
        """A test of an earlier stage's output, when the stage has earlier stages."""
        rng = self.rng
        order = list(STAGE_SHARE)
        earlier = order[: order.index(stage)]
        options: list[dict[str, Any]] = []
        if "request_type" in earlier:
            options.append({"request_type": rng.sample(list(self.taxonomy["request_type"]), 2)})
        if "flags" in earlier:
            options.append({"flag": rng.sample(list(self.taxonomy["flags"]), 2)})
        if "category" in earlier:
            options.append({"category": rng.choice(list(self.taxonomy["category"]))})
        if "severity" in earlier:
            options.append({"severity": ["severe", "critical"]})
        if "handling" in earlier:
            options.append({"handling": "special"})
        return rng.choice(options) if options else None

    def leaf(self, stage: str) -> dict[str, Any]:
        """A test without a trigger word: field, regex or earlier output."""
        roll = self.rng.random()
        if roll < 0.15:
            return {"regex": self.rng.choice(REGEXES)}
        if roll < 0.5:
            found = self.output_test(stage)
            if found is not None:
                return found
        return self.field()

    def condition(self, stage: str) -> dict[str, Any]:
        """A random condition; most need a word (so the engine's index can skip them)."""
        rng = self.rng
        text: dict[str, Any] = {"text": self.terms()}
        roll = rng.random()
        if stage == "owner" and roll < 0.5:
            items = [{"field": "product.domain", "eq": rng.choice(synthetic.DOMAINS)},
                     self.leaf(stage)]
            if rng.random() < 0.5:
                items.append(text)
            return {"all": items}
        if roll < 0.30:
            return text
        if roll < 0.50:
            return {"all": [text, self.leaf(stage)]}
        if roll < 0.62:
            return {"all": [text, {"any": [self.leaf(stage), self.leaf(stage)]}]}
        if roll < 0.72:
            return {"any": [text, {"text": self.terms()}]}
        if roll < 0.78:
            pair = rng.sample(self.common, 2)
            return {"text": {"all": pair, "none": self.terms()}}
        if roll < 0.84:
            return {"all": [text, {"not": {"any": [{"text": self.terms()}, self.leaf(stage)]}}]}
        if roll < 0.88:
            return {"all": [text, {"text": self.terms(), "negation": False}]}
        if roll < 0.93:
            return {"all": [{"regex": rng.choice(REGEXES)}, self.leaf(stage)]}
        return {"all": [self.leaf(stage), self.leaf(stage)]}

    def outputs(self, stage: str) -> dict[str, Any]:
        """What a rule of ``stage`` sets."""
        rng = self.rng
        tax = self.taxonomy
        if stage == "request_type":
            return {"request_type": rng.choice(list(tax["request_type"]))}
        if stage == "flags":
            return {"flags": rng.sample(list(tax["flags"]), rng.choice((1, 1, 2)))}
        if stage == "category":
            out: dict[str, Any] = {"category": rng.choice(list(tax["category"]))}
            if rng.random() < 0.2:
                out["subcategory"] = rng.choice(list(tax["subcategory"]))
            return out
        if stage == "severity":
            return {"severity": rng.choices(list(SEVERITIES), weights=(3, 4, 3, 1))[0]}
        if stage == "handling":
            return {"handling": "special" if rng.random() < 0.8 else "general"}
        owner: dict[str, Any] = {"owner": rng.choice(self.roles)}
        if rng.random() < 0.15:
            owner["escalation"] = rng.sample(list(BASE_ROLES), 2)
        return owner


def _taxonomy(rules: int) -> dict[str, dict[str, str]]:
    """Output values: the base ones plus generated ones that grow with the policy."""
    category = dict(BASE_CATEGORIES)
    category.update({f"cat_{i:03d}": f"生成类别{i}" for i in range(rules // 25)})
    flags = dict(BASE_FLAGS)
    flags.update({f"flag_{i:03d}": f"生成标记{i}" for i in range(rules // 20)})
    return {
        "request_type": {
            "complaint": "投诉", "repair": "报修", "inquiry": "咨询", "suggestion": "建议",
            "challenge": "质疑", "praise": "表扬"},
        "handling": {"general": "一般性问题", "special": "特殊问题"},
        "category": category,
        "subcategory": {f"sub_{i:02d}": f"子类{i}" for i in range(4 + rules // 50)},
        "severity": dict(SEVERITIES),
        "flags": flags,
        "domain": {"real_estate": "房地产", "auto_dealer": "汽车经销商", "electronics": "电子产品",
                   "cosmetics": "化妆品", "manufacturing": "制造业"},
    }


def _roles(rules: int) -> dict[str, Any]:
    """Base roles with their escalation chains, plus generated ones escalating to them."""
    roles: dict[str, Any] = {}
    for name, (display, parent) in BASE_ROLES.items():
        roles[name] = {"name": display} | ({"escalates_to": parent} if parent else {})
    bases = list(BASE_ROLES)
    for i in range(rules // 10):
        roles[f"role_{i:03d}"] = {"name": f"生成角色{i}", "escalates_to": bases[i % len(bases)]}
    return roles


def _dump(path: Path, comment: str, data: dict[str, Any]) -> None:
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(f"# {comment}\n{body}", encoding="utf-8")


def write_scaled_policy(directory: str | Path, rules: int, seed: int = 0) -> Path:
    """Write a policy of about ``rules`` rules into ``directory`` (created); return its path."""
    unfolded = [p for p in REGEXES if fold(p) != p]
    if unfolded:
        raise ValueError(f"regexes must be written folded: {unfolded}")
    rng = random.Random(seed)
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    taxonomy = _taxonomy(rules)
    roles = _roles(rules)
    vocabularies = _vocabularies(rng, max(6, rules // 3), seed)
    literal = [w for v in vocabularies.values() for w in v["words"] if not w.startswith("$")]
    common = sorted({w for w in literal if len(w) == 2})
    maker = _RuleMaker(rng, list(vocabularies), literal, common, taxonomy, list(roles))
    defaults: dict[str, Any] = {
        "request_type": "complaint", "flags": [], "category": "other", "severity": "general",
        "handling": "general", "owner": {"owner": "cs_agent"},
    }
    _dump(root / "policy.yaml", f"生成的策略：约 {rules} 条规则（seed {seed}）", {
        "policy": {"name": f"生成策略-{rules}", "description": "基准测试用的生成策略",
                   "timezone": "Asia/Shanghai",
                   "negation": {"cues": list(NEGATION_CUES), "window": 2}},
        "taxonomy": taxonomy,
    })
    _dump(root / "vocabulary.yaml", "生成的词表", {"vocabularies": vocabularies})
    for stage, count in _stage_counts(rules).items():
        priorities = (rng.sample(range(1, 20 * count + 1), count) if stage in FIRST_HIT
                      else [0] * count)
        stage_rules = []
        for i in range(count):
            rule: dict[str, Any] = {"id": f"{stage}.gen{i:04d}",
                                    "description": f"生成的{stage}规则 {i}"}
            if priorities[i]:
                rule["priority"] = priorities[i]
            rule["when"] = maker.condition(stage)
            rule["set"] = maker.outputs(stage)
            stage_rules.append(rule)
        data: dict[str, Any] = {}
        if stage == "owner":
            data["roles"] = roles
        data["stages"] = {stage: {"default": defaults[stage], "rules": stage_rules}}
        _dump(root / STAGE_FILES[stage], f"生成的 {stage} 阶段：{count} 条规则", data)
    return root


def _check(rules: int, seed: int, samples: int) -> None:
    """Load a generated policy and report how many of its rules fire on synthetic records."""
    with tempfile.TemporaryDirectory() as tmp:
        policy = triage.load_policy(write_scaled_policy(tmp, rules, seed))
        fired: Counter[str] = Counter()
        outputs: dict[str, Counter[str]] = {k: Counter() for k in ("category", "severity",
                                                                   "handling", "owner")}
        for record in synthetic.generate(samples, seed=seed):
            decision = policy.triage(record)
            fired.update(h.rule_id for h in decision.explanation if not h.default)
            outputs["category"][decision.category] += 1
            outputs["severity"][decision.severity] += 1
            outputs["handling"][decision.handling] += 1
            outputs["owner"][decision.owner.role] += 1
        print(f"{rules} rules asked, {policy.rule_count} loaded, {len(policy.warnings)} warnings; "
              f"{len(fired)} rules fired on {samples} records")
        for name, counter in outputs.items():
            print(f"  {name}: {len(counter)} values, top {counter.most_common(3)}")


def main() -> None:
    """Write a policy (``--out``) or check that generated policies load and fire."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, nargs="*", default=[20, 100, 500])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write one policy (the first --rules) here")
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    if args.out is not None:
        print(write_scaled_policy(args.out, args.rules[0], args.seed))
        return
    for rules in args.rules:
        _check(rules, args.seed, args.samples)


if __name__ == "__main__":
    main()
