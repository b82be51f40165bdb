-- Finding what retention may prune without scanning the whole log.
CREATE INDEX deliveries_finished ON deliveries (date_updated) WHERE status IN ('delivered', 'failed');
CREATE INDEX dead_letters_replayed ON dead_letters (date_updated) WHERE status = 'replayed';
CREATE INDEX consumer_failures_age ON consumer_failures (date_reported);
