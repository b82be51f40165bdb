"""Twilio's `/api/2010-04-01/Accounts` resource: the account itself and its subaccounts."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from shared.auth.accounts import Account, insert_account, list_accounts, update_account
from shared.auth.deps import Authenticator
from shared.errors import not_found
from shared.forms import Form
from shared.http import rfc2822
from shared.paging import page_token, read_page_request

PREFIX = "/api/2010-04-01"


def render_account(account: Account) -> dict[str, Any]:
    uri = f"{PREFIX}/Accounts/{account.sid}.json"
    return {
        "sid": account.sid,
        "friendly_name": account.friendly_name,
        "auth_token": account.auth_token,
        "owner_account_sid": account.owner_account_sid or account.sid,
        "status": account.status,
        "type": "Full",
        "date_created": rfc2822(account.date_created),
        "date_updated": rfc2822(account.date_updated),
        "uri": uri,
        "subresource_uris": {"keys": f"{PREFIX}/Accounts/{account.sid}/Keys.json"},
    }


def accounts_router(authenticate: Authenticator) -> APIRouter:
    """The v2010 API renders relative URIs (`uri`, `next_page_uri`), unlike the newer APIs."""
    router = APIRouter(prefix=f"{PREFIX}/Accounts")
    Caller = Annotated[Account, Depends(authenticate)]
    directory = authenticate.directory

    async def visible(caller: Account, sid: str) -> Account:
        account = await directory.get(sid.removesuffix(".json"))
        if account is None or (account.sid != caller.sid and account.owner_account_sid != caller.sid):
            raise not_found("The requested resource /Accounts/" + sid)
        return account

    @router.post(".json", status_code=201)
    async def create_subaccount(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        name = form.str("FriendlyName", max_length=64) or f"SubAccount Created at {rfc2822(caller.date_created)}"
        account = await insert_account(directory.pool, friendly_name=name, owner_account_sid=caller.sid)
        return render_account(account)

    @router.get(".json")
    async def list_(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        page = read_page_request(form)
        rows = await list_accounts(
            directory.pool, owner_sid=caller.sid, after_sid=page.after, limit=page.size + 1,
            friendly_name=form.str("FriendlyName"), status=form.str("Status"),
        )
        items = rows[: page.size]
        uri = f"{PREFIX}/Accounts.json"
        next_uri = None
        if len(rows) > page.size:
            token = page_token(page.page + 1, after=items[-1].sid)
            next_uri = f"{uri}?PageSize={page.size}&Page={page.page + 1}&PageToken={token}"
        return {
            "accounts": [render_account(account) for account in items],
            "first_page_uri": f"{uri}?PageSize={page.size}&Page=0",
            "next_page_uri": next_uri,
            "previous_page_uri": None,
            "page": page.page,
            "page_size": page.size,
            "start": page.page * page.size,
            "end": page.page * page.size + max(len(items) - 1, 0),
            "uri": f"{uri}?PageSize={page.size}&Page={page.page}",
        }

    @router.get("/{sid}")
    async def fetch(sid: str, caller: Caller) -> dict[str, Any]:
        return render_account(await visible(caller, sid))

    @router.post("/{sid}")
    async def update(sid: str, request: Request, caller: Caller) -> JSONResponse:
        account = await visible(caller, sid)
        form = await Form.read(request)
        updated = await update_account(
            directory.pool, sid=account.sid, friendly_name=form.str("FriendlyName", max_length=64),
            status=form.choice("Status", ["active", "suspended", "closed"]),
        )
        directory.forget(account.sid)
        assert updated is not None
        return JSONResponse(render_account(updated))
    return router
