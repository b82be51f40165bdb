"""All SQL of the webhooks service, one module per table family, re-exported here.

Functions run inside the caller's transaction; none opens or commits one.
"""

from services.webhooks.store.base import Connection, deliveries_channel, notify_deliveries  # noqa: F401
from services.webhooks.store.dead_letters import *  # noqa: F403
from services.webhooks.store.deliveries import *  # noqa: F403
from services.webhooks.store.failures import *  # noqa: F403
