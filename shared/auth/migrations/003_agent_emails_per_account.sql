-- Sign-in names the account (AccountSid beside Email), so an email is unique within one account only:
-- two businesses on one installation may each have an agent ana@example.com.
DROP INDEX agents_by_email;
CREATE UNIQUE INDEX agents_by_account_email ON agents (account_sid, lower(email)) WHERE email IS NOT NULL;
-- An agent signs in with both or neither (create always kept it so); now updates may set them one at a time.
ALTER TABLE agents ADD CONSTRAINT agents_sign_in_pair CHECK ((email IS NULL) = (password_hash IS NULL));
