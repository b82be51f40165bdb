"""All SQL of the conversations service, one module per resource family, re-exported here.

Functions run inside the caller's transaction; none opens or commits one.
"""

from services.conversations.store.addresses import *  # noqa: F403
from services.conversations.store.base import Connection, build, deleted_one  # noqa: F401
from services.conversations.store.conversations import *  # noqa: F403
from services.conversations.store.messages import *  # noqa: F403
from services.conversations.store.participants import *  # noqa: F403
from services.conversations.store.services import *  # noqa: F403
from services.conversations.store.webhooks import *  # noqa: F403
