"""Resources as Twilio's Conversations API renders them, one module per resource family; used by the REST API
and by events alike."""

from services.conversations.render.addresses import address_configuration  # noqa: F401
from services.conversations.render.conversations import *  # noqa: F403
from services.conversations.render.root import V1, Root  # noqa: F401
