"""Complaint records: values that used to be accepted silently are refused with a hint."""

from __future__ import annotations

import pytest

import triage


@pytest.mark.parametrize(("domain", "hint"), [("auto_dealr", "did you mean 'auto_dealer'?"),
                                              ("hotel", "domains: auto_dealer, cosmetics")])
def test_an_unknown_domain_is_refused_with_a_hint(default_policy: triage.Policy, domain: str,
                                                  hint: str) -> None:
    """A product.domain the policy does not know was decided as if it had none."""
    with pytest.raises(triage.ComplaintError) as info:
        default_policy.triage({"id": "a", "channel": "phone", "text": "漏水",
                               "product": {"domain": domain}})
    assert info.value.issues[0].field == "product.domain"
    assert hint in info.value.message


def test_no_domain_is_still_decided_by_the_general_rules(default_policy: triage.Policy) -> None:
    """A product without a domain (an appliance, a parcel) is fine."""
    decision = default_policy.triage({"id": "a", "channel": "phone", "text": "冰箱不制冷了",
                                      "product": {"line": "冰箱"}})
    assert decision.complaint_id == "a"


@pytest.mark.parametrize("value", [True, "2", 2.5])
def test_prior_rejections_must_be_a_count(default_policy: triage.Policy, value: object) -> None:
    """``true`` or ``"2"`` is an intake mistake, not a count: an error naming the field."""
    with pytest.raises(triage.ComplaintError, match="prior_rejections"):
        default_policy.triage({"id": "a", "channel": "phone", "text": "漏水",
                               "prior_rejections": value})


def test_prior_rejections_as_a_number_still_counts(default_policy: triage.Policy) -> None:
    """Two rejected answers make the case special, as before."""
    decision = default_policy.triage({"id": "a", "channel": "phone", "text": "漏水",
                                      "prior_rejections": 2})
    assert decision.handling == "special"
