"""What every Conversations route needs: the calling account, its form, the base URL, a connection."""

from shared.egress import EgressRefused, parse_networks, resolve_destination
from shared.errors import invalid_parameter
from shared.route_deps import FormData, base_of, caller  # noqa: F401 (the routes import them from here)
from shared.runtime import ServiceContext


async def check_webhook_url(context: ServiceContext, url: str, *, parameter: str) -> str:
    """Refuse at configuration time a URL the egress policy would refuse at delivery time."""
    try:
        await resolve_destination(url, parse_networks(context.settings.egress_networks), timeout=1.0)
    except EgressRefused as error:
        raise invalid_parameter(f"Parameter '{parameter}' is not an allowed URL: {error}") from error
    return url
