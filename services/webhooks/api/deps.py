"""What every webhooks route needs: the calling account, its form, the base URL, the page key."""

from typing import Any

from shared.errors import invalid_parameter
from shared.route_deps import FormData, base_of, caller  # noqa: F401 (the routes import them from here)


def seq_key(value: Any) -> int | None:
    """The `seq` a page token carries (lists page in arrival order)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_parameter("Invalid PageToken")
    return value
