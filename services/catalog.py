"""Every service Parley has, in start order."""

from services.conversations.app import SERVICE as CONVERSATIONS
from services.ingress.app import SERVICE as INGRESS
from services.router.app import SERVICE as ROUTER
from services.webhooks.app import SERVICE as WEBHOOKS
from shared.runtime import ServiceDefinition

ALL_SERVICES: list[ServiceDefinition] = [WEBHOOKS, CONVERSATIONS, ROUTER, INGRESS]
