"""What the services, users, roles, bindings and credentials routes share: the service acted on (its default roles
made on first use), role references, and Twilio's paging over (date_created, sid)."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends

from services.conversations.api.scope import Place, place_of
from services.conversations.domain.identity import Role
from services.conversations.store import identity as store
from shared.errors import invalid_parameter
from shared.forms import Form
from shared.paging import PageRequest, page_slice, read_page_request, render_page
from shared.runtime import ServiceContext


def service_place_of(context: ServiceContext, *, tokens: bool = False) -> type[Place]:
    """`place_of`, and the service's default roles exist (services made before roles existed get them now)."""
    At = place_of(context, tokens=tokens)

    async def resolve(place: At) -> Place:  # type: ignore[valid-type]
        async with context.pool.acquire() as conn:
            created = await conn.fetchval("SELECT default_roles_created FROM services WHERE sid = $1",
                                          place.service_sid)  # type: ignore[attr-defined]
            if not created:
                async with conn.transaction():
                    await store.ensure_default_roles(conn, account_sid=place.account_sid,  # type: ignore[attr-defined]
                                                     service_sid=place.service_sid)  # type: ignore[attr-defined]
        return place  # type: ignore[no-any-return]

    return Annotated[Place, Depends(resolve)]  # type: ignore[return-value]


async def role_reference(conn: store.Connection, form: Form, name: str, *, chat_service_sid: str,
                         role_type: str) -> Role | None:
    """A `…RoleSid` parameter: a role of this service, of the type the parameter needs."""
    sid = form.str(name)
    if sid is None:
        return None
    role = await store.get_role(conn, chat_service_sid=chat_service_sid, sid=sid)
    if role is None:
        raise invalid_parameter(f"Parameter '{name}': role {sid} was not found in service {chat_service_sid}")
    if role.type != role_type:
        raise invalid_parameter(f"Parameter '{name}' must name a {role_type} role; {sid} is a {role.type} role")
    return role


class Dated(Protocol):
    @property
    def sid(self) -> str: ...

    @property
    def date_created(self) -> Any: ...


def dated_page(*, key: str, rows: Sequence[Dated], page: PageRequest, url: str, render: Callable[[Any], dict[str, Any]],
               filters: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """One page from `page.size + 1` rows fetched by a (date_created, sid) keyset."""
    shown, has_more = page_slice(rows, page)
    return render_page(
        key=key, items=[render(row) for row in shown], keys=[[row.date_created.isoformat(), row.sid] for row in shown],
        request=page, has_more=has_more, url=url, filters=filters,
    )


def page_of(form: Form, *, max_size: int) -> PageRequest:
    page = read_page_request(form, max_size=max_size)
    for bound in (page.after, page.before):
        if bound is not None and not (isinstance(bound, list) and len(bound) == 2 and all(isinstance(x, str) for x in bound)):
            raise invalid_parameter("Invalid PageToken")
        if bound is not None:
            try:
                datetime.fromisoformat(bound[0])
            except ValueError as error:
                raise invalid_parameter("Invalid PageToken") from error
    return page
