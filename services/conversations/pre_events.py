"""Asking before acting: the pre-event webhooks an action waits for, asked through the webhooks service (RPC).

Called outside any transaction (it waits up to the webhook timeout); the caller applies the verdict
in its own transaction afterwards. Hooks are asked in turn (account, then service): a refusal stops
there, a change is what the next one is shown. No answer in time is Twilio's fail-open: the action
goes ahead unchanged, which is also what happens when the webhooks service itself does not answer.
"""

from __future__ import annotations

import logging

from services.conversations.domain.pre_events import ALLOWED, MODIFIABLE, Verdict, apply_answer
from services.conversations.domain.targets import Target
from services.conversations.domain.webhook_fields import Fields, common_fields
from shared.broker.topology import COMMANDS
from shared.contracts.webhooks import ASK_PRE_EVENT, PreEventReply, PreEventRequest
from shared.rpc import RpcClient, RpcTimeout, RpcUnroutable

log = logging.getLogger(__name__)

# How much longer than the webhook's own timeout the caller waits for the webhooks service's reply.
REPLY_MARGIN_SECONDS = 2.0


class PreEvents:
    """One per service instance, built by the composition root."""

    def __init__(self, rpc: RpcClient, *, webhook_timeout: float) -> None:
        self._rpc = rpc
        self._webhook_timeout = webhook_timeout

    async def ask(self, targets: list[Target], *, event: str, account_sid: str, source: str, fields: Fields,
                  client_identity: str | None = None, correlation_id: str | None = None) -> Verdict:
        if not targets:
            return ALLOWED
        params = common_fields(event, account_sid=account_sid, source=source, client_identity=client_identity) + fields
        changes: dict[str, str] = {}
        for target in targets:
            reply = await self._ask_one(target, event=event, account_sid=account_sid, params=params,
                                        correlation_id=correlation_id)
            if reply.blocks:
                return Verdict(event_type=event, fields=changes, blocked_by=target.url, status_code=reply.status_code)
            if reply.outcome == "modified":
                params, accepted = apply_answer(params, event, reply.fields)
                changes.update(accepted)
        return Verdict(event_type=event, fields=changes)

    async def _ask_one(self, target: Target, *, event: str, account_sid: str, params: Fields,
                       correlation_id: str | None) -> PreEventReply:
        request = PreEventRequest(
            event_type=event, target=target.level,  # type: ignore[arg-type]
            url=target.url, method="GET" if target.method.upper() == "GET" else "POST", params=params,
            modifiable=list(MODIFIABLE.get(event, {})), timeout_seconds=self._webhook_timeout,
        )
        try:
            return await self._rpc.call(COMMANDS, request, type_=ASK_PRE_EVENT, account_sid=account_sid,
                                        reply=PreEventReply, timeout=self._webhook_timeout + REPLY_MARGIN_SECONDS,
                                        correlation_id=correlation_id)
        except (RpcTimeout, RpcUnroutable) as error:
            log.warning("pre-event webhook not asked in time; the action goes ahead unchanged", extra={
                "account_sid": account_sid, "event_type": event, "url": target.url, "error": str(error),
                "correlation_id": correlation_id,
            })
            return PreEventReply(outcome="unanswered", error=str(error))
