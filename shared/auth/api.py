"""Twilio's `/api/2010-04-01/Accounts` resource: the account itself, its subaccounts and its API keys (`Keys.json`);
with them, Parley's own agents and access tokens (`/parley/v1/Agents`, `/parley/v1/AccessTokens`)."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from shared.auth import keys
from shared.auth.accounts import Account, insert_account, list_accounts, update_account
from shared.auth.agents_api import access_tokens_router, agents_router
from shared.auth.deps import Authenticator, basic_credentials
from shared.auth.passwords import Passwords
from shared.errors import TwilioError, not_found
from shared.forms import Form
from shared.http import rfc2822
from shared.paging import PageRequest, page_token, read_page_request
from shared.references import ReferenceCheck

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


def render_key(key: keys.ApiKey, *, with_secret: bool = False) -> dict[str, Any]:
    rendered = {"sid": key.sid, "friendly_name": key.friendly_name, "date_created": rfc2822(key.date_created),
                "date_updated": rfc2822(key.date_updated)}
    if with_secret:
        rendered["secret"] = key.secret  # shown once, when created
    return rendered


def v2010_page(key: str, items: list[dict[str, Any]], *, uri: str, page: PageRequest, has_more: bool,
               last_sid: str | None) -> dict[str, Any]:
    next_uri = None
    if has_more and last_sid is not None:
        token = page_token(page.page + 1, after=last_sid)
        next_uri = f"{uri}?PageSize={page.size}&Page={page.page + 1}&PageToken={token}"
    return {
        key: items,
        "first_page_uri": f"{uri}?PageSize={page.size}&Page=0",
        "next_page_uri": next_uri,
        "previous_page_uri": None,
        "page": page.page,
        "page_size": page.size,
        "start": page.page * page.size,
        "end": page.page * page.size + max(len(items) - 1, 0),
        "uri": f"{uri}?PageSize={page.size}&Page={page.page}",
    }


def standard_key_refused() -> TwilioError:
    return TwilioError(403, 20403, "Forbidden: API keys are Standard keys, which may not use the Accounts or Keys "
                                   "resources; use the Account SID and auth token")


def accounts_router(authenticate: Authenticator, hashing: Passwords, references: ReferenceCheck) -> APIRouter:
    """The v2010 API renders relative URIs (`uri`, `next_page_uri`), unlike the newer APIs. Agents and access
    tokens name other services' SIDs: `references` asks their owners whether those are the account's."""
    root = APIRouter()
    root.include_router(_accounts_router(authenticate))
    root.include_router(agents_router(authenticate, hashing, references))
    root.include_router(access_tokens_router(authenticate, hashing, references))
    return root


def _accounts_router(authenticate: Authenticator) -> APIRouter:
    router = APIRouter(prefix=f"{PREFIX}/Accounts")
    directory = authenticate.directory

    async def account_itself(request: Request, account: Annotated[Account, Depends(authenticate)]) -> Account:
        """The account's own credentials. API keys act as Twilio's Standard keys: everything but these resources,
        so a leaked key can neither read the auth token nor mint keys nor create or suspend subaccounts."""
        credentials = basic_credentials(request)
        if credentials is not None and credentials[0].startswith("SK"):
            raise standard_key_refused()
        return account

    Caller = Annotated[Account, Depends(account_itself)]

    async def visible(caller: Account, sid: str) -> Account:
        account = await directory.get(sid.removesuffix(".json"))
        if account is None or (account.sid != caller.sid and account.owner_account_sid != caller.sid):
            raise not_found("The requested resource /Accounts/" + sid)
        return account

    @router.post(".json", status_code=201)
    async def create_subaccount(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        name = form.str("FriendlyName", max_length=64) or f"SubAccount Created at {rfc2822(caller.date_created)}"
        account = await insert_account(directory.pool, box=directory.box, friendly_name=name, owner_account_sid=caller.sid)
        return render_account(account)

    @router.get(".json")
    async def list_(request: Request, caller: Caller) -> dict[str, Any]:
        form = await Form.read(request)
        page = read_page_request(form)
        rows = await list_accounts(
            directory.pool, owner_sid=caller.sid, after_sid=page.after, limit=page.size + 1, box=directory.box,
            friendly_name=form.str("FriendlyName"), status=form.str("Status"),
        )
        items = rows[: page.size]
        return v2010_page("accounts", [render_account(account) for account in items], uri=f"{PREFIX}/Accounts.json",
                          page=page, has_more=len(rows) > page.size, last_sid=items[-1].sid if items else None)

    @router.get("/{sid}")
    async def fetch(sid: str, caller: Caller) -> dict[str, Any]:
        return render_account(await visible(caller, sid))

    @router.post("/{sid}")
    async def update(sid: str, request: Request, caller: Caller) -> JSONResponse:
        account = await visible(caller, sid)
        form = await Form.read(request)
        updated = await update_account(
            directory.pool, sid=account.sid, friendly_name=form.str("FriendlyName", max_length=64),
            status=form.choice("Status", ["active", "suspended", "closed"]), box=directory.box,
        )
        directory.forget(account.sid)
        assert updated is not None
        return JSONResponse(render_account(updated))

    # --- API keys: `SK…` + secret, accepted wherever the account's own credentials are but here ---

    @router.post("/{account_sid}/Keys.json", status_code=201)
    async def create_key(account_sid: str, request: Request, caller: Caller) -> dict[str, Any]:
        account = await visible(caller, account_sid)
        form = await Form.read(request)
        key = await keys.insert_key(directory.pool, account_sid=account.sid,
                                    friendly_name=form.str("FriendlyName", max_length=64), box=directory.box)
        return render_key(key, with_secret=True)

    @router.get("/{account_sid}/Keys.json")
    async def list_keys(account_sid: str, request: Request, caller: Caller) -> dict[str, Any]:
        account = await visible(caller, account_sid)
        page = read_page_request(await Form.read(request))
        rows = await keys.list_keys(directory.pool, account_sid=account.sid, after_sid=page.after,
                                    limit=page.size + 1, box=directory.box)
        items = rows[: page.size]
        return v2010_page("keys", [render_key(key) for key in items], uri=f"{PREFIX}/Accounts/{account.sid}/Keys.json",
                          page=page, has_more=len(rows) > page.size, last_sid=items[-1].sid if items else None)

    async def key_of(caller: Account, account_sid: str, sid: str) -> keys.ApiKey:
        account = await visible(caller, account_sid)
        key = await keys.get_key(directory.pool, sid=sid.removesuffix(".json"), account_sid=account.sid,
                                 box=directory.box)
        if key is None:
            raise not_found(f"The requested resource /Accounts/{account_sid}/Keys/{sid}")
        return key

    @router.get("/{account_sid}/Keys/{sid}")
    async def fetch_key(account_sid: str, sid: str, caller: Caller) -> dict[str, Any]:
        return render_key(await key_of(caller, account_sid, sid))

    @router.post("/{account_sid}/Keys/{sid}")
    async def update_key(account_sid: str, sid: str, request: Request, caller: Caller) -> dict[str, Any]:
        key = await key_of(caller, account_sid, sid)
        form = await Form.read(request)
        updated = await keys.update_key(directory.pool, account_sid=key.account_sid, sid=key.sid,
                                        friendly_name=form.str("FriendlyName", max_length=64), box=directory.box)
        if updated is None:
            raise not_found(f"The requested resource /Accounts/{account_sid}/Keys/{sid}")
        return render_key(updated)

    @router.delete("/{account_sid}/Keys/{sid}", status_code=204)
    async def delete_key(account_sid: str, sid: str, caller: Caller) -> Response:
        key = await key_of(caller, account_sid, sid)
        await keys.delete_key(directory.pool, account_sid=key.account_sid, sid=key.sid)
        directory.forget_key(key.sid)
        return Response(status_code=204)

    return router
