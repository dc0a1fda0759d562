-- Supervision of graded risks: inspection records of risk points, and the
-- hazardous chemicals each enterprise holds (GB 18218), from which its R value,
-- major-hazard status and level are computed. Both are written in the same
-- transaction as the feature they change, its audit row and the data version.

-- One inspection of one risk point (日常检查/专项检查). The point's
-- last_inspection is the latest of these (or the date it was loaded with).
CREATE TABLE risk_inspections (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  risk_point_id   bigint NOT NULL REFERENCES risk_points(id) ON DELETE CASCADE,
  inspected_on    date NOT NULL,
  inspector       text NOT NULL CHECK (inspector <> ''),
  findings        text,
  hazards_found   integer NOT NULL DEFAULT 0 CHECK (hazards_found >= 0),
  hazards_fixed   integer NOT NULL DEFAULT 0 CHECK (hazards_fixed >= 0 AND hazards_fixed <= hazards_found),
  -- who recorded it (API key), and when
  actor           text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_inspections_point_idx ON risk_inspections (risk_point_id, inspected_on);

-- The assessment of one hazardous-chemical enterprise: α (correction for the
-- people exposed outside the site) and the results computed from its substances.
CREATE TABLE hazard_assessments (
  hazard_source_id  bigint PRIMARY KEY REFERENCES hazard_sources(id) ON DELETE CASCADE,
  alpha             numeric NOT NULL CHECK (alpha > 0),
  -- people within 500 m outside the site, when α was derived from it
  people_exposed    integer CHECK (people_exposed >= 0),
  -- S = Σ q/Q (major hazard source when S >= 1) and R = α · Σ β·q/Q
  sum_q_over_q      numeric NOT NULL CHECK (sum_q_over_q >= 0),
  r_value           numeric NOT NULL CHECK (r_value >= 0),
  actor             text NOT NULL,
  assessed_at       timestamptz NOT NULL DEFAULT now()
);

-- Substances held: q actual quantity and Q critical quantity (tonnes), β correction factor.
CREATE TABLE hazard_substances (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hazard_source_id  bigint NOT NULL REFERENCES hazard_assessments(hazard_source_id) ON DELETE CASCADE,
  name_zh           text NOT NULL CHECK (name_zh <> ''),
  cas               text,
  quantity_t        numeric NOT NULL CHECK (quantity_t >= 0),
  threshold_t       numeric NOT NULL CHECK (threshold_t > 0),
  beta              numeric NOT NULL CHECK (beta > 0)
);
CREATE INDEX hazard_substances_source_idx ON hazard_substances (hazard_source_id);
