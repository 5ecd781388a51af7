-- A store is claimed once its feed was opened; registrations never claimed are removed after
-- a day, so abandoned ones do not accumulate. Stores registered before this are kept.
ALTER TABLE stores ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE stores SET claimed = TRUE;
CREATE INDEX stores_unclaimed ON stores (created) WHERE NOT claimed;
