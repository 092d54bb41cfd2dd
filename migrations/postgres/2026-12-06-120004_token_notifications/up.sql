-- Issue 15: every running server keeps found tokens in memory and empties that cache when
-- told on channel `scimd_tokens` that something a token lookup reads has changed. Triggers,
-- so the notice goes out in the changing transaction whoever commits it: any instance, the
-- CLI, a restore. PostgreSQL folds identical notices of one transaction into one.
CREATE FUNCTION scimd_notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A token's last use is written once a minute per token and instance; it changes
    -- nothing a lookup refuses on that the using instance does not already know.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'api_tokens'
       AND (to_jsonb(OLD) - 'last_used_at' - 'last_used_ip')
           = (to_jsonb(NEW) - 'last_used_at' - 'last_used_ip') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('scimd_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION scimd_notify_token_change();
CREATE TRIGGER organizations_notify AFTER UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION scimd_notify_token_change();
CREATE TRIGGER network_zones_notify AFTER INSERT OR UPDATE OR DELETE ON network_zones
    FOR EACH ROW EXECUTE FUNCTION scimd_notify_token_change();
CREATE TRIGGER token_zones_notify AFTER INSERT OR UPDATE OR DELETE ON token_zones
    FOR EACH ROW EXECUTE FUNCTION scimd_notify_token_change();
-- TRUNCATE (a restore may use it) fires no row trigger.
CREATE TRIGGER api_tokens_notify_truncate AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION scimd_notify_token_change();
