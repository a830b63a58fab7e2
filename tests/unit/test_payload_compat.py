"""Payload models are forward compatible: a field added by a newer release does not break this one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from core.models import Channel, InboundMessage, SafetyDecision, SafetyDecisionRequest


def test_payload_from_a_newer_release_with_an_unknown_field_is_accepted() -> None:
    payload = {
        "case_id": "c-1",
        "message_id": "m-1",
        "channel": "chat",
        "redacted_text": "where is my order",
        "customer_id": None,
        "locale": None,
        "received_at": datetime(2026, 11, 30, tzinfo=timezone.utc).isoformat(),
        "redaction_counts": {},
        "field_added_next_release": {"anything": 1},
    }
    message = InboundMessage.model_validate(payload)
    assert message.channel is Channel.chat
    assert not hasattr(message, "field_added_next_release")


def test_api_request_body_still_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        SafetyDecisionRequest.model_validate(
            {"decision": "confirm", "reason": "x", "review_round": 1, "admin": True}
        )


def test_a_request_body_cannot_name_the_acting_person() -> None:
    # The reviewer comes from the verified token; a body naming one is rejected, not ignored.
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        SafetyDecisionRequest.model_validate(
            {"decision": "confirm", "reviewer": "r", "reason": "x", "review_round": 1}
        )


def test_the_workflow_decision_payload_is_forward_compatible() -> None:
    decision = SafetyDecision.model_validate(
        {"decision": "confirm", "reviewer": "r", "reason": "x", "review_round": 1, "added_later": True}
    )
    assert decision.reviewer == "r"
