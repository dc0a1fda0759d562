-- Evacuees checked in and out of shelters (Wujiang's smart shelters). The
-- evacuee reference (ID number, wristband …) is stored only as a salted hash.
CREATE TABLE shelter_checkins (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shelter_id    bigint NOT NULL REFERENCES shelters(id),
  at            timestamptz NOT NULL DEFAULT now(),
  direction     text NOT NULL CHECK (direction IN ('in', 'out')),
  people        integer NOT NULL CHECK (people > 0),
  evacuee_hash  text,
  actor         text NOT NULL
);
CREATE INDEX shelter_checkins_shelter_idx ON shelter_checkins (shelter_id, at);
