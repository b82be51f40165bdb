"""The rule that refuses an agent's token once its record changed (shared/auth/revocation.py), as pure code."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared.access_tokens import Grants, Stamp, VerifiedToken
from shared.auth.agents import Agent, own_grants
from shared.auth.revocation import refusal

ACCOUNT = "AC" + "1" * 32
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ALICE = Agent(sid="AG" + "a" * 32, account_sid=ACCOUNT, identity="alice", friendly_name="Alice", email="a@example.com",
              workspace_sid="WS" + "1" * 32, worker_sid="WK" + "1" * 32, chat_service_sid="IS" + "1" * 32,
              roles=("agent",), date_created=NOW, date_updated=NOW)


def token_of(agent: Agent, grants: Grants | None = None) -> VerifiedToken:
    return VerifiedToken(account_sid=agent.account_sid, key_sid="SK" + "1" * 32, expires_at=0,
                         grants=grants or own_grants(agent), stamp=Stamp.agent(agent.sid, own_grants(agent)))


def test_a_token_of_an_unchanged_agent_holds_whatever_else_changed() -> None:
    assert refusal(token_of(ALICE), ALICE) is None
    assert refusal(token_of(ALICE), replace(ALICE, friendly_name="Queen Alice", email="q@example.com")) is None


def test_a_token_the_account_minted_with_other_grants_holds_while_the_record_is_unchanged() -> None:
    wider = Grants(identity="alice", workspace_sid="WS" + "2" * 32, worker_sid="WK" + "2" * 32, role="worker")
    assert refusal(token_of(ALICE, wider), ALICE) is None
    assert refusal(token_of(ALICE, wider), replace(ALICE, roles=("admin",))) is not None


@pytest.mark.parametrize("change", [
    {"identity": "alice2"}, {"roles": ("agent", "supervisor")}, {"worker_sid": "WK" + "2" * 32},
    {"workspace_sid": "WS" + "2" * 32}, {"chat_service_sid": None},
])
def test_a_token_is_refused_once_its_agents_identity_grants_or_role_changed(change: dict[str, object]) -> None:
    error = refusal(token_of(ALICE), replace(ALICE, **change))  # type: ignore[arg-type]
    assert error is not None and (error.status, error.code) == (401, 20101)


def test_a_token_is_refused_once_its_agent_is_gone_or_is_another_accounts() -> None:
    assert refusal(token_of(ALICE), None) is not None
    assert refusal(token_of(ALICE), replace(ALICE, account_sid="AC" + "2" * 32)) is not None
    recreated = replace(ALICE, sid="AG" + "b" * 32)  # the same identity again, a new record
    assert refusal(token_of(ALICE), recreated) is not None


def test_tokens_not_minted_for_an_agent_have_no_record_to_outlive() -> None:
    for stamp in (None, Stamp.guest()):
        token = VerifiedToken(account_sid=ACCOUNT, key_sid="SK" + "1" * 32, expires_at=0,
                              grants=Grants(identity="guest-1"), stamp=stamp)
        assert refusal(token, None) is None
