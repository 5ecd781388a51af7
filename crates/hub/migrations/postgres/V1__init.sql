-- Key-mode stores: only SHA-256 hashes of the store key (in the webhook URL) and the feed token.
CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    key_hash BYTEA NOT NULL UNIQUE,
    feed_token_hash BYTEA NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

-- One row per (account or store, event id): ids only, never the event.
CREATE TABLE doorbells (
    cursor BIGSERIAL PRIMARY KEY,
    account TEXT,
    store TEXT REFERENCES stores(id) ON DELETE CASCADE,
    livemode BOOLEAN NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    received BIGINT NOT NULL,
    CHECK ((account IS NULL) <> (store IS NULL))
);
CREATE UNIQUE INDEX doorbells_account_event ON doorbells (account, event_id) WHERE account IS NOT NULL;
CREATE UNIQUE INDEX doorbells_store_event ON doorbells (store, event_id) WHERE store IS NOT NULL;
CREATE INDEX doorbells_account_feed ON doorbells (account, livemode, cursor) WHERE account IS NOT NULL;
CREATE INDEX doorbells_store_feed ON doorbells (store, cursor) WHERE store IS NOT NULL;
CREATE INDEX doorbells_received ON doorbells (received);

-- The highest cursor retention removed: a feed resuming below it is told to resync.
CREATE TABLE retention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through BIGINT NOT NULL
);
INSERT INTO retention (id, pruned_through) VALUES (1, 0);
