"""`/parley/v1/DeadLetters`: every message the fabric parked, and replay."""

from typing import Any

from fastapi import APIRouter, Request

from services.webhooks import handlers, render, store
from services.webhooks.api.deps import FormData, base_of, caller, seq_key
from services.webhooks.domain.models import DEAD_LETTER_STATUSES
from shared.errors import not_found
from shared.paging import page_slice, read_page_request, render_page
from shared.runtime import ServiceContext

PATH = render.DEAD_LETTERS_PATH


def dead_letters_router(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix=PATH)
    Caller = caller(context)
    pool = context.pool

    @router.get("")
    async def list_(request: Request, form: FormData, account: Caller) -> dict[str, Any]:
        page = read_page_request(form)
        queue = form.str("Queue")
        status = form.choice("Status", DEAD_LETTER_STATUSES)
        async with pool.acquire() as conn:
            rows = await store.list_dead_letters(
                conn, account_sid=account.sid, top_level=account.owner_account_sid is None, queue=queue,
                status=status, after=seq_key(page.after), before=seq_key(page.before), limit=page.size + 1,
            )
        rows, has_more = page_slice(rows, page)
        base = base_of(context, request)
        filters = [(name, value) for name, value in (("Queue", queue), ("Status", status)) if value is not None]
        return render_page(
            key="dead_letters", items=[render.dead_letter(row, base) for row in rows], keys=[row.seq for row in rows],
            request=page, has_more=has_more, url=f"{base}{PATH}", filters=filters,
        )

    @router.get("/{sid}")
    async def fetch(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        async with pool.acquire() as conn:
            found = await store.get_dead_letter(
                conn, account_sid=account.sid, top_level=account.owner_account_sid is None, sid=sid
            )
        if found is None:
            raise not_found(f"Dead letter {sid}")
        return render.dead_letter(found, base_of(context, request))

    @router.post("/{sid}/Replay")
    async def replay(request: Request, sid: str, account: Caller) -> dict[str, Any]:
        replayed = await handlers.replay_dead_letter(pool, context.broker, account=account, sid=sid)
        return render.dead_letter(replayed, base_of(context, request))

    return router
