"""`…/Conversations/{ConversationSid}/Messages` (by SID or index; Order asc/desc on a keyset) and their
delivery receipts, `…/Messages/{MessageSid}/Receipts`."""

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Response

from services.conversations import media_links, render, store
from services.conversations.api.chat_users import authorize
from services.conversations.api.conversations import conversation_or_404
from services.conversations.api.deps import FormData
from services.conversations.api.scope import Place, form_attributes, form_datetime, place_of
from services.conversations.domain.chat_permissions import ChatRequest
from services.conversations.domain.identity import Media, media_summary
from services.conversations.domain.models import Conversation, Message
from services.conversations.domain.pre_events import message_add_fields, pre_event_targets
from services.conversations.handlers import messages as use_cases
from services.conversations.pre_events import PreEvents
from services.conversations.store import media as media_store
from shared.errors import TwilioError, invalid_parameter, not_found
from shared.forms import Form
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext

MAX_BODY = 1600


def _message_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (author := form.str("Author", max_length=256)) is not None:
        values["author"] = author
    if (body := form.str("Body")) is not None:
        if len(body) > MAX_BODY:
            raise invalid_parameter(f"Body must be at most {MAX_BODY} characters", code=50511)
        values["body"] = body
    if (attributes := form_attributes(form)) is not None:
        values["attributes"] = attributes
    if (subject := form.str("Subject", max_length=256)) is not None:
        values["subject"] = subject
    for parameter, column in (("DateCreated", "date_created"), ("DateUpdated", "date_updated")):
        if (when := form_datetime(form, parameter)) is not None:
            values[column] = when
    return values


async def message_or_404(conn: store.Connection, conversation: Conversation, sid: str) -> Message:
    found = await store.get_message(conn, conversation_sid=conversation.sid, sid_or_index=sid)
    if found is None:
        raise not_found(f"Message {sid}")
    return found


async def media_or_400(conn: store.Connection, conversation: Conversation, sid: str) -> Media:
    """Media attached to a message must have been uploaded to the conversation's own service."""
    found = await media_store.get_media(conn, chat_service_sid=conversation.chat_service_sid, sid=sid)
    if found is None or found.account_sid != conversation.account_sid:
        raise invalid_parameter(f"Media {sid} was not found in the conversation's service", code=50509)
    return found


def refused_by_webhook(event: str) -> TwilioError:
    return TwilioError(403, 20403, f"Forbidden: the {event} pre-event webhook refused the action")


def messages_router(context: ServiceContext, root: str, pre_events: PreEvents | None = None) -> APIRouter:
    router = APIRouter(prefix=f"{root}/Conversations/{{ConversationSid}}/Messages")
    At = place_of(context, tokens=True)  # chat users too, as their conversation role permits
    pool = context.pool

    async def ask_message_add(place: Place, ConversationSid: str, values: dict[str, Any], author: str,
                              body: str | None) -> dict[str, Any]:
        """A chat user's message is an SDK action: onMessageAdd is asked first (outside any transaction), and
        may refuse it or change its body, author or attributes."""
        if pre_events is None or place.identity is None:
            return {}
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            targets = pre_event_targets(await store.get_account_configuration(conn, account_sid=place.account_sid),
                                        await store.get_service_webhooks(conn, chat_service_sid=place.service_sid),
                                        "onMessageAdd")
            participant = await store.get_participant(conn, conversation_sid=conversation.sid, sid=author)
        fields = message_add_fields(conversation, author=author, body=body or "",
                                    participant_sid=participant.sid if participant else None,
                                    attributes=values.get("attributes") or "{}")
        verdict = await pre_events.ask(targets, event="onMessageAdd", account_sid=place.account_sid, source="SDK",
                                       fields=fields, client_identity=place.identity)
        if verdict.blocked:
            raise refused_by_webhook("onMessageAdd")
        return verdict.fields
    lifetime = context.settings.media_url_lifetime_seconds

    async def rendered(conn: store.Connection, messages: list[Message], place: Place) -> list[dict[str, Any]]:
        sids = [message.sid for message in messages]
        counts = await store.receipt_counts(conn, message_sids=sids)
        attached = await media_store.media_of_messages(conn, message_sids=sids)
        account = await context.authenticate.directory.get(place.account_sid) if attached else None

        def listed(media: Media) -> dict[str, Any]:
            assert account is not None
            link = media_links.temporary_url(place.root.base, media, account.auth_token, lifetime_seconds=lifetime)
            return {**media_summary(media), "links": {"content_direct_temporary": link}}

        return [
            render.message(replace(message, media=[listed(item) for item in attached.get(message.sid, [])]),
                           place.root, receipts=counts.get(message.sid), chat_service_sid=place.service_sid)
            for message in messages
        ]

    @router.post("", status_code=201)
    async def create(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        values = _message_values(form)
        if (content := form.str("ContentSid")) is not None:
            if not (content.startswith("HX") and len(content) == 34):
                raise invalid_parameter("ContentSid must be a Content SID (HX…)")
            values["content_sid"] = content
        author = values.pop("author", None) or "system"
        body = values.pop("body", None)
        media_sids = form.list("MediaSid") or []
        if not body and "content_sid" not in values and not media_sids:
            raise invalid_parameter("A message needs a Body, a MediaSid or a ContentSid", code=50506)
        asked = ChatRequest("send_message", with_body=bool(body), with_media=bool(media_sids),
                            fields=frozenset(name for name in ("date_created", "date_updated") if name in values))
        if place.identity is not None:
            author = place.identity  # a chat user writes as itself
            async with pool.acquire() as conn:  # refused before any webhook is asked
                await authorize(conn, place, await conversation_or_404(conn, place, ConversationSid), asked)
            changed = await ask_message_add(place, ConversationSid, values, author, body)
            author, body = changed.get("author", author), changed.get("body", body)
            values.update({name: changed[name] for name in ("attributes",) if name in changed})
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid, for_update=True)
            await authorize(conn, place, conversation, asked)
            media = [await media_or_400(conn, conversation, sid) for sid in media_sids]
            participant = await store.get_participant(conn, conversation_sid=conversation.sid, sid=author)
            _, message = await use_cases.add_message(
                conn, conversation=conversation, author=author, body=body, action=place.action(),
                participant_sid=participant.sid if participant and participant.identity == author else None,
                values=values, media=media,
            )
            return (await rendered(conn, [message], place))[0]

    @router.get("")
    async def list_(ConversationSid: str, form: FormData, place: At) -> dict[str, Any]:
        page = read_page_request(form, max_size=100)
        order = form.choice("Order", ["asc", "desc"]) or "asc"
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
            rows = await store.list_messages(
                conn, conversation_sid=conversation.sid, after=page.after, before=page.before, limit=page.size + 1,
                descending=order == "desc",
            )
            rows, has_more = page_slice(rows, page)
            items = await rendered(conn, rows, place)
        return render_page(
            key="messages", items=items, keys=[row.index for row in rows], request=page, has_more=has_more,
            url=f"{place.root.url}/Conversations/{conversation.sid}/Messages", filters=[("Order", order)],
        )

    @router.get("/{sid}")
    async def fetch(ConversationSid: str, sid: str, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
            return (await rendered(conn, [await message_or_404(conn, conversation, sid)], place))[0]

    @router.post("/{sid}")
    async def update(ConversationSid: str, sid: str, form: FormData, place: At) -> dict[str, Any]:
        values = _message_values(form)
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            message = await message_or_404(conn, conversation, sid)
            await authorize(conn, place, conversation, ChatRequest("edit_message", fields=frozenset(values),
                                                                   owner=message.author))
            updated = await use_cases.update_message(
                conn, conversation=conversation, message=message, values=values, action=place.action()
            )
            return (await rendered(conn, [updated], place))[0]

    @router.delete("/{sid}", status_code=204)
    async def delete(ConversationSid: str, sid: str, place: At) -> Response:
        async with pool.acquire() as conn, conn.transaction():
            conversation = await conversation_or_404(conn, place, ConversationSid)
            message = await message_or_404(conn, conversation, sid)
            await authorize(conn, place, conversation, ChatRequest("delete_message", owner=message.author))
            await use_cases.remove_message(conn, conversation=conversation, message=message, action=place.action())
        return Response(status_code=204)

    @router.get("/{MessageSid}/Receipts")
    async def list_receipts(ConversationSid: str, MessageSid: str, form: FormData, place: At) -> dict[str, Any]:
        page = read_page_request(form, max_size=100)
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
            message = await message_or_404(conn, conversation, MessageSid)
            rows = await store.list_receipts(conn, message_sid=message.sid, after=page.after, limit=page.size + 1)
        items, has_more = page_slice(rows, page)
        return render_page(
            key="delivery_receipts",
            items=[render.receipt(row, place.root, chat_service_sid=place.service_sid) for row in items],
            keys=[row.sid for row in items], request=page, has_more=has_more,
            url=f"{place.root.url}/Conversations/{conversation.sid}/Messages/{message.sid}/Receipts",
        )

    @router.get("/{MessageSid}/Receipts/{sid}")
    async def fetch_receipt(ConversationSid: str, MessageSid: str, sid: str, place: At) -> dict[str, Any]:
        async with pool.acquire() as conn:
            conversation = await conversation_or_404(conn, place, ConversationSid)
            await authorize(conn, place, conversation, ChatRequest("read"))
            message = await message_or_404(conn, conversation, MessageSid)
            receipt = await store.get_receipt(conn, message_sid=message.sid, sid=sid)
        if receipt is None:
            raise not_found(f"Receipt {sid}")
        return render.receipt(receipt, place.root, chat_service_sid=place.service_sid)

    return router
