-- Connect grants waiting for their desktop: sealed (ciphertext only) under the state key,
-- keyed by the SHA-256 of the one-time code, removed on redeem or at most 60 s later.
CREATE TABLE broker_grants (
    code_hash BLOB PRIMARY KEY,
    sealed BLOB NOT NULL,
    expires INTEGER NOT NULL
) STRICT;
CREATE INDEX broker_grants_expires ON broker_grants (expires);
