"""Decisions of the bundled default policy that customer-service staff rely on."""

from __future__ import annotations

import pytest
import yaml

import triage


def decide(policy: triage.Policy, text: str, domain: str | None = None,
           **fields: object) -> triage.Decision:
    record: dict[str, object] = {"id": "t", "channel": "phone", "text": text, **fields}
    if domain:
        record["product"] = {"domain": domain}
    return policy.triage(record)


def test_default_policy_loads_without_warnings(default_policy: triage.Policy) -> None:
    """The bundled policy is clean: no tie or other warning."""
    assert default_policy.warnings == ()
    assert default_policy.rule_count >= 40


@pytest.mark.parametrize("text", [
    "家里燃气灶有漏气的味道，很危险",
    "车开着开着刹车突然变软了",
    "电梯把我困在里面半个小时",
    "手机充电时冒烟了",
])
def test_safety_hazards_are_severe(default_policy: triage.Policy, text: str) -> None:
    """Fire, brakes, gas, elevators: severe with the safety flag."""
    decision = decide(default_policy, text)
    assert decision.severity == "severe"
    assert "safety" in decision.flags


@pytest.mark.parametrize("text", [
    "再不处理我就打12315", "我要去微博曝光你们", "已经联系了电视台记者"])
def test_media_and_regulator_threats_are_severe_complaints(default_policy: triage.Policy,
                                                           text: str) -> None:
    """A media or regulator threat is an escalation signal: severe, complaint."""
    decision = decide(default_policy, text)
    assert (decision.severity, decision.request_type) == ("severe", "complaint")
    assert "media_threat" in decision.flags


def test_two_rejected_answers_make_a_special_case(default_policy: triage.Policy) -> None:
    """prior_rejections >= 2 goes to the manager who approves the negotiation record."""
    decision = decide(default_policy, "你们的方案我还是不能接受", "auto_dealer", prior_rejections=2)
    assert decision.handling == "special"
    assert decision.owner.role == "customer_care_manager"


@pytest.mark.parametrize(("text", "demands"), [
    ("地板起拱了，要求赔偿损失", []),
    ("请把户型改一下，做设计变更", []),
    ("屏幕坏了", ["compensation"]),
])
def test_compensation_or_design_change_is_special(default_policy: triage.Policy, text: str,
                                                  demands: list[str]) -> None:
    """Economic compensation or a design change, asked in words or recorded as a demand."""
    assert decide(default_policy, text, demands=demands).handling == "special"


def test_refund_without_compensation_stays_general(default_policy: triage.Policy) -> None:
    """An exchange or refund is an appeal, not a claim: general handling."""
    decision = decide(default_policy, "口红断了，想换一支", "cosmetics", demands=["exchange"])
    assert decision.handling == "general"


def test_negated_compensation_is_not_a_claim(default_policy: triage.Policy) -> None:
    """没有要求赔偿，只想修好: the word 赔偿 is negated, so handling stays general."""
    decision = decide(default_policy, "我没有要求赔偿，只想把漏水修好", "real_estate")
    assert decision.handling == "general"
    assert "compensation" not in decision.flags


def test_not_a_quality_problem_is_not_product_quality(default_policy: triage.Policy) -> None:
    """不是质量问题，是态度问题: the negated quality words do not decide the category."""
    decision = decide(default_policy, "不是质量问题，是你们店员态度太差", "cosmetics")
    assert decision.category == "service"


def test_packaging_problem_is_incidental(default_policy: triage.Policy) -> None:
    """Quantity, packaging and label problems are incidental."""
    decision = decide(default_policy, "收到的货外箱压扁了，少发了两盒", "manufacturing")
    assert (decision.severity, decision.category) == ("incidental", "product_quality")


def test_appearance_defect_is_general(default_policy: triage.Policy) -> None:
    """A scratch is a cosmetic defect: general severity."""
    assert decide(default_policy, "新买的笔记本外壳有一道划痕", "electronics").severity == "general"


def test_repeated_repair_is_repair_quality_and_severe(default_policy: triage.Policy) -> None:
    """The same fault after repairs: repair quality, severe, owned by the service manager."""
    decision = decide(default_policy, "变速箱顿挫已经修了三次还是没修好", "auto_dealer")
    assert (decision.category, decision.severity) == ("repair_quality", "severe")
    assert decision.owner.role == "service_manager"
    assert [r.role for r in decision.escalation] == ["service_director", "general_manager"]


def test_real_estate_escalation_chain(default_policy: triage.Policy) -> None:
    """Real estate: the call center owns it; the chain runs project GM to group GM."""
    decision = decide(default_policy, "卫生间漏水到楼下了", "real_estate")
    assert decision.owner.role == "re_call_center_agent"
    assert [r.role for r in decision.escalation] == [
        "project_gm", "subsidiary_gm", "vice_president", "group_gm"]


def test_allergy_at_the_cosmetics_counter(default_policy: triage.Policy) -> None:
    """Skin reaction: severe, health flag, skin sub-type, the counter manager owns it."""
    decision = decide(default_policy, "用了你们的精华脸上起了红疹", "cosmetics")
    assert (decision.severity, decision.category, decision.subcategory) == (
        "severe", "product_quality", "skin_discomfort")
    assert decision.owner.role == "counter_manager"


def test_traditional_chinese_is_understood(default_policy: triage.Policy) -> None:
    """繁體 input matches the Simplified vocabulary."""
    decision = decide(default_policy, "車子剎車失靈，非常危險，我要找媒體曝光", "auto_dealer")
    assert decision.severity == "severe"
    assert {"safety", "media_threat"} <= set(decision.flags)


def test_praise_is_recognised(default_policy: triage.Policy) -> None:
    """Thanks for a technician: praise, about service."""
    decision = decide(default_policy, "特别感谢张师傅，服务非常好，给你们点赞")
    assert (decision.request_type, decision.category) == ("praise", "service")


def test_production_stop_is_severe(default_policy: triage.Policy) -> None:
    """A B2B customer whose line stopped: severe, the QA engineer analyses."""
    decision = decide(default_policy, "这批轴承尺寸偏大装不上，我们产线已经停线", "manufacturing")
    assert decision.severity == "severe"
    assert "production_stop" in decision.flags
    assert decision.owner.role == "qa_engineer"


def test_corrective_action_demand_is_severe(default_policy: triage.Policy) -> None:
    """A demand for an 8D report is severe."""
    decision = decide(default_policy, "外观不良，请贵司提供8D报告", "manufacturing")
    assert decision.severity == "severe"
    assert "corrective_action" in decision.flags


def test_renovation_is_not_a_repair_problem(default_policy: triage.Policy) -> None:
    """装修完 contains 修完 only by accident: not repair quality."""
    decision = decide(default_policy, "楼上装修完以后我家卫生间天花板一直滴水", "real_estate")
    assert decision.category == "product_quality"  # and 卫生间 is a room, not hygiene


def test_blaming_the_repair_makes_a_complaint(default_policy: triage.Policy) -> None:
    """你们到底怎么修的 blames the company: a complaint, not a repair request."""
    decision = decide(default_policy, "保养完以后发动机有异响，你们到底怎么修的", "auto_dealer")
    assert (decision.request_type, decision.category) == ("complaint", "repair_quality")


@pytest.mark.parametrize(("text", "category"), [
    ("谢谢客服小王耐心帮我查订单，辛苦了", "service"),
    ("这台洗碗机洗得很干净，真的好用，已经推荐给邻居了", "other"),
])
def test_praise_category_follows_what_is_praised(default_policy: triage.Policy, text: str,
                                                  category: str) -> None:
    """Praise of staff is about service; praise of the product itself is 'other'."""
    decision = decide(default_policy, text)
    assert (decision.request_type, decision.category) == ("praise", category)


def test_thanks_after_a_repair_request_is_still_a_repair(default_policy: triage.Policy) -> None:
    """A polite 谢谢 at the end of a repair request is not praise."""
    decision = decide(default_policy, "空调不制冷了，麻烦派师傅上门看看，谢谢", "electronics")
    assert decision.request_type == "repair"


@pytest.mark.parametrize(("text", "request_type"), [
    ("冰箱门的密封条脱落了，请给我换一台新的", "complaint"),
    ("冰箱门的密封条脱落了，麻烦安排师傅来看看", "repair"),
])
def test_a_redress_demand_makes_a_fault_report_a_complaint(default_policy: triage.Policy,
                                                           text: str, request_type: str) -> None:
    """换/退/补发 is redress (complaint); a visit or inspection is a repair request."""
    assert decide(default_policy, text, "electronics").request_type == request_type


def test_a_missing_key_is_an_incidental_quantity_problem(default_policy: triage.Policy) -> None:
    """Missing keys, cards or fittings count as a short delivery: incidental."""
    decision = decide(default_policy, "合同写的是三把钥匙，交房时只给了两把，请尽快补给我",
                      "real_estate")
    assert (decision.request_type, decision.category, decision.severity) == (
        "complaint", "product_quality", "incidental")


@pytest.mark.parametrize(("text", "category"), [
    ("为什么上门检测要收100元？请说明收费依据", "service"),
    ("你们说屏幕发黄是人为损坏，可我一直放在家里没动过，请说明判定依据", "product_quality"),
])
def test_a_challenge_takes_the_category_of_what_is_disputed(default_policy: triage.Policy,
                                                            text: str, category: str) -> None:
    """A disputed charge is service; a disputed defect verdict is the defect's category."""
    decision = decide(default_policy, text, "electronics")
    assert (decision.request_type, decision.category) == ("challenge", category)


def test_a_brake_pad_price_question_is_not_a_hazard(default_policy: triage.Policy) -> None:
    """刹车片 is only the part being priced: an inquiry about a price, general, no safety flag."""
    decision = decide(default_policy, "请问换一套刹车片多少钱？", "auto_dealer")
    assert (decision.request_type, decision.category, decision.severity) == (
        "inquiry", "service", "general")
    assert "safety" not in decision.flags


def test_repeated_no_shows_are_a_service_complaint_not_a_recurrence(
        default_policy: triage.Policy) -> None:
    """Being stood up twice is chasing an unresolved case (brief §12), not the problem
    recurring: a service complaint whose severity is that of the underlying request."""
    decision = decide(default_policy, "约好的安装师傅已经放了我两次鸽子，到底还来不来？",
                      "electronics")
    assert (decision.request_type, decision.category, decision.severity) == (
        "complaint", "service", "general")
    assert "recurrence" not in decision.flags


def test_a_fault_back_on_the_second_unit_is_a_recurrence(default_policy: triage.Policy) -> None:
    """A count next to the fault (the second bottle with the same floating matter) is."""
    decision = decide(default_policy, "这已经是第二瓶了，换来的新瓶子里面还是有白色絮状物",
                      "cosmetics")
    assert "recurrence" in decision.flags and decision.severity == "severe"


def test_an_alarmed_hazard_report_is_a_complaint(default_policy: triage.Policy) -> None:
    """太危险了！ without asking for a visit expresses alarm, not a calm repair request."""
    decision = decide(default_policy, "楼道的扶手松动了，太危险了！", "real_estate")
    assert (decision.request_type, decision.severity) == ("complaint", "severe")


def test_default_policy_files_parse_without_libyaml() -> None:
    """Every bundled file also parses with PyYAML's pure-Python loader (no libyaml)."""
    for path in sorted(triage.bundled_policy_path().glob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
