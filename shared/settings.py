"""Parley's settings, read from environment variables; tests build `Settings(...)` directly."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", alias="AMQP_URL")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5432/test", alias="DATABASE_URL")
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8080, alias="PORT")
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")

    # Isolation: every schema, exchange and queue name carries these prefixes, so several
    # deployments (or test runs) share one broker and one database without seeing each other.
    schema_prefix: str = Field("", alias="PARLEY_SCHEMA_PREFIX")
    broker_prefix: str = Field("", alias="PARLEY_BROKER_PREFIX")

    dev_account_sid: str | None = Field(None, alias="PARLEY_ACCOUNT_SID")
    dev_auth_token: str | None = Field(None, alias="PARLEY_AUTH_TOKEN")

    # Fernet keys, comma-separated, sealing the secrets stored in the database (auth tokens, API key
    # secrets, provider and push credentials) and keying page tokens: the first seals, all open. Required
    # for every process of a deployment; only the one-process `parley run` with the default local media
    # directory makes one itself (.parley/secret_key). Rotate with `parley rotate-secret-key`.
    secret_key: str | None = Field(None, alias="PARLEY_SECRET_KEY", repr=False)

    # Egress: every outbound HTTP call must land on an address inside one of these networks
    # (`public` stands for every public address). Empty means "public addresses only".
    egress_networks: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="PARLEY_EGRESS_NETWORKS")

    # Broker behaviour.
    delivery_limit: int = Field(5, alias="PARLEY_DELIVERY_LIMIT")
    prefetch: int = Field(64, alias="PARLEY_PREFETCH")
    # How long creating an agent, an access token or a studio address waits for the service owning a SID it
    # names (workspace, worker, chat service, flow) to say whether the SID is the account's; then 503.
    reference_check_timeout_seconds: float = Field(5.0, alias="PARLEY_REFERENCE_CHECK_TIMEOUT", gt=0)

    # Webhook delivery budgets; tests shrink them.
    webhook_timeout_seconds: float = Field(5.0, alias="PARLEY_WEBHOOK_TIMEOUT")
    webhook_max_attempts: int = Field(8, alias="PARLEY_WEBHOOK_MAX_ATTEMPTS")
    webhook_backoff_base_seconds: float = Field(1.0, alias="PARLEY_WEBHOOK_BACKOFF_BASE")
    webhook_backoff_max_seconds: float = Field(300.0, alias="PARLEY_WEBHOOK_BACKOFF_MAX")
    webhook_concurrency: int = Field(64, alias="PARLEY_WEBHOOK_CONCURRENCY")
    webhook_per_endpoint_concurrency: int = Field(8, alias="PARLEY_WEBHOOK_PER_ENDPOINT_CONCURRENCY")
    # A claimed delivery is leased for this long and its dispatcher renews the lease while the attempt is in
    # flight, so the work of a replica that died is taken over by another within about this long.
    webhook_lease_seconds: float = Field(5.0, alias="PARLEY_WEBHOOK_LEASE", gt=0)
    # After this many consecutive failures an endpoint is left alone for the cool-down.
    webhook_circuit_threshold: int = Field(5, alias="PARLEY_WEBHOOK_CIRCUIT_THRESHOLD", ge=1)
    webhook_circuit_cooldown_seconds: float = Field(30.0, alias="PARLEY_WEBHOOK_CIRCUIT_COOLDOWN", ge=0)

    # Outbound sends to messaging providers: pacing per sender address (a token bucket per From)
    # and the retry budget on provider 5xx, 429 and network errors; tests shrink the budget.
    send_rate_per_second: float = Field(10.0, alias="PARLEY_SEND_RATE_PER_SECOND", gt=0)
    # The largest answer Parley reads from a server it calls (webhooks, callbacks, pre-event answers, provider
    # APIs); past it the connection is dropped. Media fetches have their own limit (media_max_bytes).
    outbound_answer_max_bytes: int = Field(1024 * 1024, alias="PARLEY_OUTBOUND_ANSWER_MAX_BYTES", ge=1)
    send_timeout_seconds: float = Field(10.0, alias="PARLEY_SEND_TIMEOUT", gt=0)
    send_max_attempts: int = Field(6, alias="PARLEY_SEND_MAX_ATTEMPTS", ge=1)
    # How long a sender holds a send it is attempting; a replica that died mid-attempt leaves the claim to expire
    # and the send to be taken back (within its attempts). Unset: three send timeouts, at least a minute. Keep
    # it above the send timeout, or a replica may take back a send another is still waiting on.
    send_claim_timeout_seconds: float | None = Field(None, alias="PARLEY_SEND_CLAIM_TIMEOUT", gt=0)
    send_backoff_base_seconds: float = Field(1.0, alias="PARLEY_SEND_BACKOFF_BASE", ge=0)
    send_backoff_max_seconds: float = Field(120.0, alias="PARLEY_SEND_BACKOFF_MAX", ge=0)

    # Media bytes (the /mcs upload API): the local blob store's root, and how long a signed
    # content_direct_temporary URL stays valid; tests shrink the lifetime.
    media_directory: str = Field(".parley/media", alias="PARLEY_MEDIA_DIRECTORY")
    # The largest media file: an upload (refused while it is read) and an inbound file fetched from a provider.
    media_max_bytes: int = Field(100 * 1024 * 1024, alias="PARLEY_MEDIA_MAX_BYTES", ge=1)
    # What an account's media files may weigh together (0: no quota), and how many files one token holder
    # (a web-chat guest, an agent) may upload a minute (0: no limit); the account's own credentials are not rated.
    media_quota_bytes: int = Field(10 * 1024**3, alias="PARLEY_MEDIA_QUOTA_BYTES", ge=0)
    media_uploads_per_minute: int = Field(30, alias="PARLEY_MEDIA_UPLOADS_PER_MINUTE", ge=0)
    media_url_lifetime_seconds: float = Field(300.0, alias="PARLEY_MEDIA_URL_LIFETIME", gt=0)
    # The media URLs an outbound send gives the provider: valid through the whole send retry budget.
    outbound_media_url_lifetime_seconds: float = Field(86400.0, alias="PARLEY_OUTBOUND_MEDIA_URL_LIFETIME", gt=0)

    # The built browser apps (`make web` writes web/dist); unset means the repository's own web/dist.
    web_dist_directory: str | None = Field(None, alias="PARLEY_WEB_DIST")
    # Who may frame the web-chat demo page (/webchat/), as a CSP frame-ancestors list; the desk and the
    # supervisor view are never framed. The widget itself is a script on the business's own page.
    webchat_frame_ancestors: str = Field("'self'", alias="PARLEY_WEBCHAT_FRAME_ANCESTORS")

    # Origins whose pages may call Parley from the browser (the web-chat widget on a business's site):
    # `*`, a comma-separated list of origins, or empty for none.
    cors_allowed_origins: str = Field("*", alias="PARLEY_CORS_ALLOWED_ORIGINS")

    # Provider callbacks (docs/channel-edge.md): a replica trusts the provider record it read for this long (a
    # provider changed in another process is seen after it; 0: read every time). While the database cannot be
    # reached, callbacks are checked against the last record read, however old. An inbound message waits this
    # long for the broker's confirm before it is answered 503; providers give up on a webhook after ~15 s.
    provider_cache_seconds: float = Field(5.0, alias="PARLEY_PROVIDER_CACHE_SECONDS", ge=0)
    inbound_publish_timeout_seconds: float = Field(8.0, alias="PARLEY_INBOUND_PUBLISH_TIMEOUT", gt=0)

    # Chats a browser may start without credentials (the widget), per client address and minute; 0: no limit.
    # Behind a proxy, trust its X-Forwarded-For to tell clients apart (else they all share the proxy's address).
    webchat_starts_per_minute: int = Field(60, alias="PARLEY_WEBCHAT_STARTS_PER_MINUTE", ge=0)
    trust_forwarded_for: bool = Field(False, alias="PARLEY_TRUST_FORWARDED_FOR")

    # Guessing credentials (shared/auth/throttle.py): agent sign-ins (Email + Password) and HTTP Basic
    # failures, each counted per client address and per (email or SID, client address) in a window that
    # opens at the first attempt; past a limit that address (or pair) gets 429 (20429) with Retry-After
    # until its window ends. The client address is the peer uvicorn reports: behind a proxy, set uvicorn's
    # FORWARDED_ALLOW_IPS to the proxy's address so it reads X-Forwarded-For.
    auth_failures_per_credential: int = Field(10, alias="PARLEY_AUTH_FAILURES_PER_CREDENTIAL", ge=1)
    auth_failures_per_address: int = Field(100, alias="PARLEY_AUTH_FAILURES_PER_ADDRESS", ge=1)
    auth_failure_window_seconds: float = Field(900.0, alias="PARLEY_AUTH_FAILURE_WINDOW", gt=0)
    # How long a replica trusts its last look that a client with correct Basic credentials is not throttled
    # (every request asks; 0: look every time). A refusal is kept until its window ends either way.
    auth_throttle_cache_seconds: float = Field(1.0, alias="PARLEY_AUTH_THROTTLE_CACHE", ge=0)
    # Threads hashing and checking agents' passwords (argon2id: tens of milliseconds of CPU, 64 MiB each); fewer
    # than the cores, so that a burst of sign-ins leaves the event loop a core for everyone else's requests.
    password_hash_threads: int = Field(1, alias="PARLEY_PASSWORD_HASH_THREADS", ge=1)

    # Supervisors' live statistics: recomputed at most this often per workspace while router events come in.
    supervisor_statistics_interval_seconds: float = Field(1.0, alias="PARLEY_SUPERVISOR_STATS_INTERVAL", gt=0)

    # Revoking access tokens (docs/auth.md): a REST call reuses the agent record it read to check an agent's
    # token for this long (a change made in another process takes effect after it; 0: read every time), and
    # each open WebSocket's token is re-checked this often, so a deleted or changed agent, or a deleted key,
    # closes its sockets within one interval. Together they keep a revocation under 5 s.
    token_check_cache_seconds: float = Field(2.0, alias="PARLEY_TOKEN_CHECK_CACHE_SECONDS", ge=0)
    realtime_token_check_seconds: float = Field(2.0, alias="PARLEY_REALTIME_TOKEN_CHECK_INTERVAL", gt=0)
    # Open realtime WebSockets (services/ingress/domain/socket_caps.py), counted per ingress replica: per
    # identity of an account (a person's tabs, whichever tokens they carry), and per client address (as
    # uvicorn reports it, IPv6 by /64) from the handshake on, sockets not yet authenticated included. 200 per
    # address leaves room for a contact center of a hundred agents behind one NAT, each with two tabs. Past
    # a cap the socket gets an error (20429) and close code 4029. A socket that has not authenticated within
    # the timeout is closed (4001).
    realtime_sockets_per_identity: int = Field(10, alias="PARLEY_REALTIME_SOCKETS_PER_IDENTITY", ge=1)
    realtime_sockets_per_address: int = Field(200, alias="PARLEY_REALTIME_SOCKETS_PER_ADDRESS", ge=1)
    realtime_auth_timeout_seconds: float = Field(10.0, alias="PARLEY_REALTIME_AUTH_TIMEOUT", gt=0)

    # A stop (SIGTERM) ends within this: HTTP requests under way get a quarter of it to finish, then consumers
    # settle the messages they hold and the outbox relays publish what was committed (half of it), then
    # connections close. Past it, unsettled messages go back to their queues for another process.
    shutdown_timeout_seconds: float = Field(20.0, alias="PARLEY_SHUTDOWN_TIMEOUT", gt=0)

    # How often background loops look for work when no notification woke them.
    poll_interval_seconds: float = Field(1.0, alias="PARLEY_POLL_INTERVAL")
    # Conversation timers (Timers.Inactive/Closed) run this many times slower; tests shrink time with it.
    conversation_timer_scale: float = Field(1.0, alias="PARLEY_CONVERSATION_TIMER_SCALE", gt=0)

    # Retention: how long consumers remember processed message ids (redeliveries come within minutes;
    # a week is generous), how long the webhook delivery log keeps finished deliveries, and how
    # often old rows are pruned.
    dedupe_retention_hours: float = Field(168.0, alias="PARLEY_DEDUPE_RETENTION_HOURS", gt=0)
    webhook_retention_days: float = Field(30.0, alias="PARLEY_WEBHOOK_RETENTION_DAYS", gt=0)
    retention_interval_seconds: float = Field(3600.0, alias="PARLEY_RETENTION_INTERVAL", gt=0)

    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_json: bool = Field(True, alias="PARLEY_LOG_JSON")

    @field_validator("egress_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("egress_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            if network.lower() != "public":
                ipaddress.ip_network(network, strict=False)
        return value

    def schema_name(self, service: str) -> str:
        """The database schema of `service`, carrying this deployment's prefix."""
        return f"{self.schema_prefix}{service}"

    def broker_name(self, name: str) -> str:
        return f"{self.broker_prefix}{name}"

    def external_base_url(self) -> str:
        """Where clients reach Parley, for URLs rendered outside a request (events, webhooks)."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"
