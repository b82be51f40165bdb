-- The media quota sums an account's files; the upload rate counts one identity's recent uploads.
CREATE INDEX media_by_account_author ON media (account_sid, author, date_created);
