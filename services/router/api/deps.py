"""What every TaskRouter route needs: the calling account, its form, the base URL, the workspace, pages."""

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends

from services.router.api.token_gate import token_gate
from services.router.domain.models import Workspace
from services.router.store import workspaces
from services.router.store.base import Keyset
from shared.auth.accounts import Account
from shared.errors import not_found
from shared.forms import Form
from shared.paging import PageRequest, read_page_request, render_page
from shared.route_deps import FormData, base_of, checked_url  # noqa: F401 (the routes import them from here)
from shared.runtime import ServiceContext

ROOT = "/taskrouter/v1/Workspaces"


def caller(context: ServiceContext) -> type[Account]:
    """The account acted for: account credentials, or an access token its grant's policy admits (token_gate)."""
    return Annotated[Account, Depends(token_gate(context))]  # type: ignore[return-value]


async def workspace_or_404(context: ServiceContext, account: Account, sid: str) -> Workspace:
    found = await workspaces.get_workspace(context.pool, account_sid=account.sid, sid=sid)
    if found is None:
        raise not_found(f"Workspace {sid}")
    return found


def found_or_404(value: Any, what: str) -> Any:
    if value is None:
        raise not_found(what)
    return value


def page_of(form: Form) -> tuple[PageRequest, Keyset]:
    page = read_page_request(form, max_size=1000)
    return page, Keyset(after=page.after, before=page.before, limit=page.size + 1)


def date_key(value: Any) -> list[str]:
    """The keyset needs full timestamp precision, not the API's whole seconds."""
    return [value.date_created.isoformat(), value.sid]


def listing(*, key: str, rows: Sequence[Any], page: PageRequest, url: str, draw: Callable[[Any], dict[str, Any]],
            filters: list[tuple[str, str]] | None = None, key_of: Callable[[Any], Any] = date_key) -> dict[str, Any]:
    has_more = len(rows) > page.size
    shown = list(rows[-page.size:] if page.before is not None else rows[: page.size])
    return render_page(key=key, items=[draw(row) for row in shown], keys=[key_of(row) for row in shown], request=page,
                       has_more=has_more, url=url, filters=[(k, v) for k, v in (filters or []) if v is not None])
