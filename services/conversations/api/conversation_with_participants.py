"""`/v1/ConversationWithParticipants` (and under `/v1/Services/{ChatServiceSid}`): a conversation and up to ten
participants in one transaction, so one bad participant leaves nothing behind."""

import json
from typing import Any

import asyncpg
from fastapi import APIRouter

from services.conversations import render
from services.conversations.api.conversations import conversation_values, unique_name_taken
from services.conversations.api.deps import FormData
from services.conversations.api.participants import participant_values
from services.conversations.api.scope import place_of
from services.conversations.handlers import conversations as conversation_cases
from services.conversations.handlers import participants as participant_cases
from shared.errors import invalid_parameter
from shared.forms import Form
from shared.runtime import ServiceContext

MAX_PARTICIPANTS = 10
# The participant JSON uses the resource's snake_case names; the form parser speaks Twilio's parameters.
_PARAMETERS = {
    "identity": "Identity", "attributes": "Attributes", "role_sid": "RoleSid",
    "messaging_binding.address": "MessagingBinding.Address",
    "messaging_binding.proxy_address": "MessagingBinding.ProxyAddress",
    "messaging_binding.projected_address": "MessagingBinding.ProjectedAddress",
}


def _participant_form(text: str, position: int) -> Form:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise invalid_parameter(f"Participant {position} is not valid JSON") from error
    if not isinstance(data, dict):
        raise invalid_parameter(f"Participant {position} must be a JSON object")
    flat: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            flat.extend((f"{_snake(key)}.{_snake(sub)}", item) for sub, item in value.items())
        else:
            flat.append((_snake(key), value))
    items = []
    for key, value in flat:
        if key in _PARAMETERS and value is not None:
            items.append((_PARAMETERS[key], value if isinstance(value, str) else json.dumps(value)))
    return Form(items)


def _snake(name: str) -> str:
    """`messagingBinding` / `MessagingBinding` / `messaging_binding` → `messaging_binding`."""
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return out.replace("__", "_")


def conversation_with_participants_router(context: ServiceContext, root: str) -> APIRouter:
    router = APIRouter(prefix=f"{root}/ConversationWithParticipants")
    At = place_of(context)
    pool = context.pool

    @router.post("", status_code=201)
    async def create(form: FormData, place: At) -> dict[str, Any]:
        values = conversation_values(form, creating=True)
        raw = _repeated(form, "Participant")
        if len(raw) > MAX_PARTICIPANTS:
            raise invalid_parameter(f"At most {MAX_PARTICIPANTS} participants can be added in one request")
        participants = [participant_values(_participant_form(text, n)) for n, text in enumerate(raw, start=1)]
        action = place.action()
        async with pool.acquire() as conn, conn.transaction():
            try:
                async with conn.transaction():
                    conversation = await conversation_cases.create_conversation(
                        conn, account_sid=place.account_sid, chat_service_sid=place.service_sid, values=values,
                        action=action,
                    )
            except asyncpg.UniqueViolationError as error:
                raise unique_name_taken(error, values) from error
            for participant in participants:
                await participant_cases.add_participant(conn, conversation=conversation, values=participant, action=action)
        return render.conversation(conversation, place.root)

    return router


def _repeated(form: Form, name: str) -> list[str]:
    """Every value of a repeated parameter as sent: JSON texts contain commas, so no comma splitting."""
    return [value for key, value in form.as_pairs() if key == name]
