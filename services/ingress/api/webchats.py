"""`/flex-api/v2/WebChats` (Twilio's shape) and the web-chat guest's access tokens under `/ingress/webchat`.

A business's own server calls these with its account credentials and hands the guest's token to the
browser; Parley's widget starts a chat itself, naming only its chat address. Either way the browser
refreshes the token with the token itself, never seeing account credentials: only a guest's token (one
minted here), and only while the guest has a conversation that is not closed, so a token taken from a page
cannot be kept alive forever, nor an agent's be renewed without its agent (docs/auth.md).
"""

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request

from services.ingress import store
from services.ingress.api.deps import FormData, caller
from services.ingress.webchat_limits import StartLimiter
from services.ingress.webchats import WebChatRequests
from shared import access_tokens
from shared.auth.agents_api import render_token
from shared.contracts.webchat import StartWebChat
from shared.db import require_reachable
from shared.errors import invalid_parameter
from shared.runtime import ServiceContext
from shared.sids import is_sid

WEBCHATS_PATH = "/flex-api/v2/WebChats"
GUEST_TOKENS_PATH = "/ingress/webchat/tokens"
# A request carrying any of these is authenticated (and refused when wrong); one with none is a widget's.
CREDENTIAL_HEADERS = ("authorization", "x-twilio-token")


def webchats_router(context: ServiceContext, requests: WebChatRequests) -> APIRouter:
    router = APIRouter()
    Caller = caller(context)
    directory = context.authenticate.directory
    limiter = StartLimiter(context.settings.webchat_starts_per_minute,
                           trust_forwarded_for=context.settings.trust_forwarded_for)

    @router.post(WEBCHATS_PATH, status_code=201)
    async def create(request: Request, form: FormData) -> dict[str, Any]:
        """With account credentials (a business's server), or with none (the widget on a web page, which names
        its chat address by SID only). Both get the guest's access token with the answer."""
        anonymous = not any(name in request.headers for name in CREDENTIAL_HEADERS)
        account_sid = "" if anonymous else (await context.authenticate(request)).sid
        address_sid = form.required("AddressSid", max_length=64)
        if anonymous and not is_sid(address_sid, "IG"):
            raise invalid_parameter(f"Parameter 'AddressSid' must be an IG… address configuration SID, not '{address_sid}'")
        if anonymous:
            limiter.check(limiter.client_of(request))
        pre_engagement = form.str("PreEngagementData", max_length=16_384)
        if pre_engagement is not None:
            try:
                parsed = json.loads(pre_engagement)
            except ValueError as error:
                raise invalid_parameter("Parameter 'PreEngagementData' is not valid JSON") from error
            if not isinstance(parsed, dict):
                raise invalid_parameter("Parameter 'PreEngagementData' must be a JSON object")
        start = StartWebChat(
            request_id=uuid.uuid4(), address_sid=address_sid,
            # Twilio makes up an identity for a guest who brings none; an anonymous caller never picks one
            # (its token would speak as that identity, an agent's say).
            identity=(None if anonymous else form.str("Identity", max_length=256)) or f"guest-{uuid.uuid4().hex}",
            chat_friendly_name=form.str("ChatFriendlyName", max_length=256),
            customer_friendly_name=form.str("CustomerFriendlyName", max_length=256),
            pre_engagement_data=pre_engagement,
        )
        # Recording the guest and signing its token need the database: without it, a chat started now would be
        # one its guest never gets into (503 20503 instead, from the HTTP layer).
        await require_reachable(context.pool)
        started = await requests.start(account_sid=account_sid, request=start)
        chat_account_sid = started.account_sid or account_sid
        if started.conversation_sid and started.participant_sid:
            # The guest's socket may connect before this replica's event consumer has seen the participant
            # added; recording the membership now (idempotent) makes its first hello name the chat.
            async with context.pool.acquire() as conn:
                await store.insert_member(conn, account_sid=chat_account_sid, identity=started.identity,
                                          conversation_sid=started.conversation_sid,
                                          participant_sid=started.participant_sid)
        grants = access_tokens.Grants(identity=started.identity, chat_service_sid=started.chat_service_sid)
        issued = await access_tokens.issue(directory, account_sid=chat_account_sid, grants=grants,
                                           ttl=access_tokens.DEFAULT_TTL_SECONDS, stamp=access_tokens.Stamp.guest())
        return {"conversation_sid": started.conversation_sid, "identity": started.identity, "token": issued.token}

    @router.post(GUEST_TOKENS_PATH, status_code=201)
    async def guest_token(form: FormData, account: Caller) -> dict[str, Any]:
        """A guest's token for the realtime connection: its `Identity`, optionally the `ChatServiceSid`."""
        service_sid = form.str("ChatServiceSid")
        if service_sid is not None and not is_sid(service_sid, "IS"):
            raise invalid_parameter(f"Parameter 'ChatServiceSid' must be an IS… SID, not '{service_sid}'")
        grants = access_tokens.Grants(identity=form.required("Identity", max_length=256), chat_service_sid=service_sid)
        issued = await access_tokens.issue(directory, account_sid=account.sid, grants=grants, ttl=_ttl(form),
                                           stamp=access_tokens.Stamp.guest())
        return render_token(issued)

    @router.post(f"{GUEST_TOKENS_PATH}/refresh", status_code=201)
    async def refresh(form: FormData) -> dict[str, Any]:
        """A fresh token with the same grants, for a guest's `Token` that is still valid (no account credentials)
        while the guest is in a conversation that is not closed. Any other token: 401 20101."""
        current, _ = await context.authenticate.verify_token(form.required("Token", max_length=8192))
        if not current.is_guest:
            raise access_tokens.invalid_token("only a web-chat guest's token is refreshed here (agents renew theirs at "
                                              "/parley/v1/AccessTokens)")
        async with context.pool.acquire() as conn:
            chatting = await store.has_open_conversation(conn, account_sid=current.account_sid,
                                                         identity=current.identity)
        if not chatting:
            raise access_tokens.invalid_token("the guest has no open conversation")
        issued = await access_tokens.issue(directory, account_sid=current.account_sid, grants=current.grants,
                                           ttl=_ttl(form), stamp=access_tokens.Stamp.guest())
        return render_token(issued)

    return router


def _ttl(form: Any) -> int:
    ttl = form.int("Ttl", minimum=60, maximum=access_tokens.MAX_TTL_SECONDS)
    return int(ttl) if ttl is not None else access_tokens.DEFAULT_TTL_SECONDS
