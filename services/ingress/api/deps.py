"""What the ingress routes share: the calling account, the parsed form, the base URL, rule errors."""

import contextlib
from collections.abc import Iterator

from services.ingress.domain.providers import ProviderRuleBroken
from shared.errors import invalid_parameter
from shared.route_deps import FormData, base_of, caller, checked_url  # noqa: F401 (the routes import them from here)


@contextlib.contextmanager
def rules_as_bad_request() -> Iterator[None]:
    """A broken provider rule is the client's bad input: 400 with the rule's own words."""
    try:
        yield
    except ProviderRuleBroken as broken:
        raise invalid_parameter(str(broken)) from broken
