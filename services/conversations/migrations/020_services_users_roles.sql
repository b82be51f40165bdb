-- Services (their Configuration and Configuration/Notifications), roles, users and user conversations,
-- push bindings and credentials, media records. Owned by the identity side of the conversations service.

ALTER TABLE services ADD CONSTRAINT services_friendly_name_length CHECK (length(friendly_name) <= 256);
ALTER TABLE services ADD COLUMN reachability_enabled boolean NOT NULL DEFAULT false;
-- Set once the service's default roles exist (services made before this migration get them on first use).
ALTER TABLE services ADD COLUMN default_roles_created boolean NOT NULL DEFAULT false;

CREATE TABLE roles (
    sid text PRIMARY KEY CHECK (sid ~ '^RL[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    chat_service_sid text NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    friendly_name text NOT NULL CHECK (friendly_name <> '' AND length(friendly_name) <= 64),
    type text NOT NULL CHECK (type IN ('conversation', 'service')),
    permissions text[] NOT NULL CHECK (cardinality(permissions) > 0),
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX roles_by_service ON roles (chat_service_sid, date_created, sid);

-- The service's Configuration: which roles new conversations' creators, participants and users get.
ALTER TABLE services ADD COLUMN default_conversation_creator_role_sid text REFERENCES roles (sid) ON DELETE SET NULL;
ALTER TABLE services ADD COLUMN default_conversation_role_sid text REFERENCES roles (sid) ON DELETE SET NULL;
ALTER TABLE services ADD COLUMN default_chat_service_role_sid text REFERENCES roles (sid) ON DELETE SET NULL;

-- The service's Configuration/Notifications (push templates; Parley stores them and sends no push).
CREATE TABLE service_notifications (
    chat_service_sid text PRIMARY KEY REFERENCES services (sid) ON DELETE CASCADE,
    account_sid text NOT NULL,
    log_enabled boolean NOT NULL DEFAULT false,
    new_message_enabled boolean NOT NULL DEFAULT false,
    new_message_template text CHECK (length(new_message_template) <= 1024),
    new_message_sound text CHECK (length(new_message_sound) <= 256),
    new_message_badge_count_enabled boolean NOT NULL DEFAULT false,
    new_message_with_media_enabled boolean NOT NULL DEFAULT false,
    new_message_with_media_template text CHECK (length(new_message_with_media_template) <= 1024),
    added_to_conversation_enabled boolean NOT NULL DEFAULT false,
    added_to_conversation_template text CHECK (length(added_to_conversation_template) <= 1024),
    added_to_conversation_sound text CHECK (length(added_to_conversation_sound) <= 256),
    removed_from_conversation_enabled boolean NOT NULL DEFAULT false,
    removed_from_conversation_template text CHECK (length(removed_from_conversation_template) <= 1024),
    removed_from_conversation_sound text CHECK (length(removed_from_conversation_sound) <= 256),
    date_updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    sid text PRIMARY KEY CHECK (sid ~ '^US[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    chat_service_sid text NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    identity text NOT NULL CHECK (identity <> '' AND length(identity) <= 256),
    friendly_name text CHECK (length(friendly_name) <= 256),
    attributes text NOT NULL DEFAULT '{}' CHECK (length(attributes) <= 16384),
    role_sid text REFERENCES roles (sid) ON DELETE SET NULL,
    is_online boolean,
    is_notifiable boolean,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chat_service_sid, identity)
);
CREATE INDEX users_by_service ON users (chat_service_sid, date_created, sid);

-- A user's own settings on one conversation (absent row: the defaults).
CREATE TABLE user_conversation_settings (
    user_sid text NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    conversation_sid text NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    notification_level text NOT NULL DEFAULT 'default' CHECK (notification_level IN ('default', 'muted')),
    PRIMARY KEY (user_sid, conversation_sid)
);

CREATE TABLE credentials (
    sid text PRIMARY KEY CHECK (sid ~ '^CR[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    friendly_name text CHECK (length(friendly_name) <= 64),
    type text NOT NULL CHECK (type IN ('apn', 'gcm', 'fcm')),
    sandbox boolean,
    -- Secrets are stored for the push sender and never rendered.
    certificate text,
    private_key text,
    api_key text,
    secret text,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credentials_by_account ON credentials (account_sid, date_created, sid);

-- Push bindings registered by SDK clients; the REST API lists, fetches and deletes them.
CREATE TABLE bindings (
    sid text PRIMARY KEY CHECK (sid ~ '^BS[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    chat_service_sid text NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    credential_sid text REFERENCES credentials (sid) ON DELETE CASCADE,
    identity text NOT NULL CHECK (identity <> ''),
    endpoint text NOT NULL CHECK (endpoint <> ''),
    binding_type text NOT NULL CHECK (binding_type IN ('apn', 'gcm', 'fcm', 'twilsock')),
    message_types text[] NOT NULL DEFAULT '{}',
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chat_service_sid, identity, endpoint, binding_type)
);
CREATE INDEX bindings_by_service ON bindings (chat_service_sid, date_created, sid);

-- Media records (Media Content Service); the bytes live in the blob store under blob_key.
CREATE TABLE media (
    sid text PRIMARY KEY CHECK (sid ~ '^ME[0-9a-f]{32}$'),
    account_sid text NOT NULL,
    chat_service_sid text NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    content_type text NOT NULL CHECK (content_type ~ '^[!-~]+/[!-~]+$' AND length(content_type) <= 255),
    filename text CHECK (length(filename) <= 1024),
    size bigint NOT NULL CHECK (size >= 0),
    category text NOT NULL DEFAULT 'media' CHECK (category IN ('media', 'body', 'thumbnail')),
    author text,
    blob_key text NOT NULL UNIQUE,
    date_created timestamptz NOT NULL DEFAULT now(),
    date_updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_by_service ON media (chat_service_sid, date_created, sid);
