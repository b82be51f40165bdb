"""Cross-origin requests from browsers: the web-chat widget runs on a business's own site and calls Parley.

Parley authenticates every request by what it carries (Basic credentials, an access token header), never
by cookies, so answering other origins lets no page act with a visitor's ambient credentials. The origins
allowed are a setting (`PARLEY_CORS_ALLOWED_ORIGINS`: `*`, a comma-separated list, or empty for none).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from shared.settings import Settings

ALLOWED_HEADERS = ["Authorization", "X-Twilio-Token", "Content-Type", "Accept", "Ui-Version"]


def install_cors(app: FastAPI, settings: Settings) -> None:
    origins = [origin.strip().rstrip("/") for origin in settings.cors_allowed_origins.split(",") if origin.strip()]
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE"], allow_headers=ALLOWED_HEADERS, max_age=600)
