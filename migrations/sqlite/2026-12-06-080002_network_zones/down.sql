DROP TABLE token_zones;
ALTER TABLE api_tokens DROP COLUMN denied_cidrs;
DROP TABLE network_zones;
