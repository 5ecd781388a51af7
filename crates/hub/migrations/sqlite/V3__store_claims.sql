-- A store is claimed once its feed was opened; registrations never claimed are removed after
-- a day, so abandoned ones do not accumulate. Stores registered before this are kept.
ALTER TABLE stores ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
UPDATE stores SET claimed = 1;
CREATE INDEX stores_unclaimed ON stores (created) WHERE claimed = 0;
