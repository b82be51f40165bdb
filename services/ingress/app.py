"""Composition root of the ingress service."""

from pathlib import Path

from services.ingress.api.provider_callbacks import provider_callbacks_router
from services.ingress.api.providers import providers_router
from services.ingress.provider_directory import ProviderDirectory
from services.ingress.web_apps import web_apps_router
from shared.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(context: ServiceContext) -> ServiceParts:
    # One directory for both routers, so a provider changed through the API is seen by callbacks at once.
    directory = ProviderDirectory(context.pool)
    return ServiceParts(routers=[
        providers_router(context, directory),
        provider_callbacks_router(context, directory),
        web_apps_router(context.settings),
    ])


SERVICE = ServiceDefinition(name="ingress", migrations=Path(__file__).parent / "migrations", build=build)
