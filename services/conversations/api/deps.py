"""What every Conversations route needs: the calling account, its form, the base URL, a connection."""

from shared.route_deps import FormData, base_of, caller, checked_url  # noqa: F401 (the routes import them from here)
