"""triage: rule-driven, explainable triage of Chinese customer-service complaints.

Load a policy once, then decide complaints with it::

    import triage

    policy = triage.load_policy()          # the bundled default policy
    decision = policy.triage({"id": "A1", "channel": "phone", "text": "热水器漏水，第二次了"})
    decision.severity, decision.owner.name, decision.rules_fired()
    triage.why_not(policy, record, "category", "service").format()  # and why not another
"""

from .authoring.why_not import QueryError, RuleAnswer, WhyNot, why_not
from .complaint import Channel, Complaint, Customer, Demand, Handling, Product, RequestType
from .deadlines.planner import Deadline
from .decision import (
    DECISION_SCHEMA_VERSION,
    AbsenceEvidence,
    Decision,
    Evidence,
    FieldEvidence,
    KeywordEvidence,
    OutputEvidence,
    RegexEvidence,
    Reply,
    RoleRef,
    RuleHit,
    RuleShare,
    SpanEvidence,
    StageScores,
    ValueScore,
    decision_json_schema,
)
from .errors import (
    CalendarError,
    ColumnError,
    ComplaintError,
    DecisionError,
    EngineError,
    EventError,
    FieldIssue,
    PolicyError,
    PolicyVersionError,
    Problem,
    RecordError,
    RenderError,
    TriageError,
)
from .policy import Policy, bundled_policy_path, load_policy
from .replies.guard import Finding
from .status import CaseStatus, Event, MilestoneStatus

__all__ = [
    "DECISION_SCHEMA_VERSION",
    "AbsenceEvidence",
    "CalendarError",
    "CaseStatus",
    "Channel",
    "ColumnError",
    "Complaint",
    "ComplaintError",
    "Customer",
    "Deadline",
    "Decision",
    "DecisionError",
    "Demand",
    "EngineError",
    "Event",
    "EventError",
    "Evidence",
    "FieldEvidence",
    "FieldIssue",
    "Finding",
    "Handling",
    "KeywordEvidence",
    "MilestoneStatus",
    "OutputEvidence",
    "Policy",
    "PolicyError",
    "PolicyVersionError",
    "Problem",
    "Product",
    "QueryError",
    "RecordError",
    "RegexEvidence",
    "RenderError",
    "Reply",
    "RequestType",
    "RoleRef",
    "RuleAnswer",
    "RuleHit",
    "RuleShare",
    "SpanEvidence",
    "StageScores",
    "TriageError",
    "ValueScore",
    "WhyNot",
    "bundled_policy_path",
    "decision_json_schema",
    "load_policy",
    "why_not",
]
__version__ = "0.1.0"
