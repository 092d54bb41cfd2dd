-- Issue 12: named network zones, and tokens that may not be used from some networks.
-- Expand-only. A zone belongs to one organization; its name is unique there, ignoring case.
CREATE TABLE network_zones (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    cidrs TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX network_zones_org_name_key ON network_zones (org_id, name_lower);

-- The networks of a "not from" rule; allowed_cidrs keeps those of an "only from" rule.
ALTER TABLE api_tokens ADD COLUMN denied_cidrs TEXT;

-- The zones a token's rule names; `rule` is 'only_from' or 'not_from'. A zone in use cannot
-- be deleted (no cascade from network_zones): the use case refuses first, naming the tokens.
CREATE TABLE token_zones (
    token_id TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    zone_id TEXT NOT NULL REFERENCES network_zones (id),
    org_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (token_id, zone_id)
);
CREATE INDEX token_zones_zone_idx ON token_zones (zone_id);
CREATE INDEX token_zones_org_idx ON token_zones (org_id);
