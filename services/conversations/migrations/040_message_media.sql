-- Media attached to a message (REST `MediaSid`, inbound MMS/WhatsApp), in the order given.
CREATE TABLE message_media (
    message_sid text NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
    media_sid text NOT NULL REFERENCES media (sid) ON DELETE CASCADE,
    position smallint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (message_sid, media_sid),
    UNIQUE (message_sid, position)
);
CREATE INDEX message_media_by_media ON message_media (media_sid);
