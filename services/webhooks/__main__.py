"""Runs the webhooks service alone: its HTTP app and its consumers."""

import asyncio

from services.webhooks.app import SERVICE
from shared.logs import configure_logging
from shared.runtime import run_services
from shared.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(run_services(settings, [SERVICE]))
