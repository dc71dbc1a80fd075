"""Hypothesis strategies for the property tests of services that use triage.

``complaints(policy)`` gives valid ``Complaint`` objects whose text is built from the
policy's own words (so rules fire), with the fields rules test: channel, product domain,
customer tier and title, demands, prior rejections, received times. Needs hypothesis
(``pip install "triage[test]"``)::

    from hypothesis import given
    import triage
    from triage.testing import complaints

    policy = triage.load_policy()

    @given(complaints(policy))
    def test_every_complaint_gets_an_owner(complaint):
        assert policy.triage(complaint).owner.role
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from .complaint import Channel, Complaint, Customer, Demand, Product, RequestType
from .policy import Policy, load_policy

#: Words that join the policy's words into sentences (and a few that mean nothing).
FILLER = ("，", "。", "！", "？", "我", "你们", "的", "了", "已经", "还是", "请", "马上", "不是",
          "没有", "这个", "昨天", "一直", "A", "ok")
_SHANGHAI = timezone(timedelta(hours=8))


def complaint_texts(policy: Policy | None = None, *, max_pieces: int = 14
                    ) -> st.SearchStrategy[str]:
    """Texts mixing the policy's vocabulary words with filler, sometimes with no words."""
    chosen = policy if policy is not None else load_policy()
    words = sorted({w.text for ws in chosen._model.vocabularies.values() for w in ws})
    pieces = st.sampled_from(words) | st.sampled_from(FILLER)
    return st.lists(pieces, min_size=1, max_size=max_pieces).map("".join)


def complaints(policy: Policy | None = None) -> st.SearchStrategy[Complaint]:
    """Valid complaints with realistic Chinese text from ``policy`` (default: bundled)."""
    chosen = policy if policy is not None else load_policy()
    domains = sorted(chosen.taxonomy.get("domain", {})) or ["general"]
    return st.builds(
        Complaint,
        id=st.from_regex(r"[A-Z]{1,3}-[0-9]{1,6}", fullmatch=True),
        text=complaint_texts(chosen),
        channel=st.sampled_from(list(Channel)),
        request_type=st.none() | st.sampled_from(list(RequestType)),
        received_at=st.none() | st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20),
            timezones=st.just(_SHANGHAI)),
        customer=st.none() | st.builds(
            Customer,
            name=st.none() | st.sampled_from(["王伟", "李娜", "欧阳明", "陈"]),
            title=st.none() | st.sampled_from(["先生", "女士"]),
            tier=st.none() | st.sampled_from(["vip", "key_account", "normal"])),
        product=st.none() | st.builds(Product, domain=st.none() | st.sampled_from(domains)),
        prior_rejections=st.integers(0, 3),
        demands=st.lists(st.sampled_from(list(Demand)), max_size=3, unique=True).map(tuple),
    )
