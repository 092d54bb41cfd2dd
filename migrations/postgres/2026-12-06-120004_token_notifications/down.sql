DROP TRIGGER api_tokens_notify_truncate ON api_tokens;
DROP TRIGGER token_zones_notify ON token_zones;
DROP TRIGGER network_zones_notify ON network_zones;
DROP TRIGGER organizations_notify ON organizations;
DROP TRIGGER api_tokens_notify ON api_tokens;
DROP FUNCTION scimd_notify_token_change();
