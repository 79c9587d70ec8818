-- Real and demo providers never share a database: a demo duty phone is
-- fictional, so a survivor routed to it reaches nobody, and a demo must
-- never text a real provider. The import and `amparo demo` check this
-- first with a clear message; this is the floor under every other path
-- (LoadDirectory, a hand-written INSERT).
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION directory_one_kind() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    self uuid;
BEGIN
    -- An organisation may change its own flag when it is the only one.
    IF TG_TABLE_NAME = 'organization' THEN
        self := NEW.id;
    END IF;
    IF EXISTS (SELECT 1 FROM organization WHERE demo <> NEW.demo AND id IS DISTINCT FROM self) THEN
        RAISE EXCEPTION 'real and demo providers never share a database'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'directory_one_kind';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER organization_one_kind BEFORE INSERT OR UPDATE OF demo ON organization
    FOR EACH ROW EXECUTE FUNCTION directory_one_kind();
CREATE TRIGGER service_one_kind BEFORE INSERT OR UPDATE OF demo ON service
    FOR EACH ROW EXECUTE FUNCTION directory_one_kind();
CREATE TRIGGER community_one_kind BEFORE INSERT OR UPDATE OF demo ON community
    FOR EACH ROW EXECUTE FUNCTION directory_one_kind();

-- +goose Down
DROP TRIGGER community_one_kind ON community;
DROP TRIGGER service_one_kind ON service;
DROP TRIGGER organization_one_kind ON organization;
DROP FUNCTION directory_one_kind();
