"""The TaskRouter and Flex Interactions routes' authentication: account credentials, or an access token whose
task_router grant permits the request (domain/token_policy.py). Refusals are 403 with code 20403."""

from fastapi import Request

from services.router.domain.token_policy import Asked, Grant, decide
from services.router.store.holders import worker_holds
from shared.auth.accounts import Account
from shared.auth.deps import not_permitted
from shared.forms import Form
from shared.runtime import ServiceContext


def token_gate(context: ServiceContext):  # type: ignore[no-untyped-def]
    """A dependency yielding the Account acted for, once the caller may make this request."""
    principal_of = context.authenticate.principal

    async def gate(request: Request) -> Account:
        principal = await principal_of(request)
        holder = principal.token
        if holder is None:
            return principal.account
        route = request.scope.get("route")
        template = getattr(route, "path", request.url.path)
        # The parsed form is kept on the request, so the route's own reading finds it; Transfers take JSON, which
        # the route reads raw, so their body is left alone (their rule needs no form). A read's query is its form.
        reads_body = request.method == "POST" and not template.endswith("/Transfers")
        form = await Form.read(request) if reads_body else Form(request.query_params.multi_items())
        asked = Asked(method=request.method, template=template, params=dict(request.path_params),
                      form={name: form.str(name) or "" for name in form.names()})
        decision = decide(Grant(holder.workspace_sid, holder.worker_sid, holder.role), asked)
        if not decision.allowed:
            raise not_permitted(decision.reason)
        if decision.requirement is not None and holder.worker_sid is not None:
            if not await worker_holds(context.pool, decision.requirement, account_sid=holder.account_sid,
                                      worker_sid=holder.worker_sid,
                                      reading=request.method == "GET"):
                raise not_permitted("the resource is not the token's worker's")
        request.state.roster_only = decision.roster  # the workers listing reads it (api/workers.py)
        return principal.account

    return gate
