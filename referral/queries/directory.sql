-- name: HasRealProviders :one
-- An organisation not marked demo: `amparo demo` refuses such a database.
SELECT EXISTS (SELECT 1 FROM organization WHERE NOT demo);

-- name: UpsertOrganization :one
INSERT INTO organization (key, name, demo) VALUES (@key, @name, @demo)
ON CONFLICT (key) DO UPDATE SET name = excluded.name, demo = excluded.demo, updated_at = now()
RETURNING id;

-- name: UpsertService :exec
-- By key, so that referrals keep pointing at the same provider when the
-- file is loaded again. The escalation link is set by LinkService.
INSERT INTO service (key, organization_id, name, kind, needs, communities, hours, timezone,
                     capacity, duty_phone, lang, ack_urgent_min, ack_routine_min, priority, active, demo, address)
VALUES (@key, @organization_id, @name, @kind, @needs, @communities, @hours, @timezone,
        @capacity, @duty_phone, @lang, @ack_urgent_min, @ack_routine_min, @priority, @active, @demo, @address)
ON CONFLICT (key) DO UPDATE SET
    organization_id = excluded.organization_id, name = excluded.name, kind = excluded.kind,
    address = excluded.address,
    needs = excluded.needs, communities = excluded.communities, hours = excluded.hours,
    timezone = excluded.timezone, capacity = excluded.capacity, duty_phone = excluded.duty_phone,
    lang = excluded.lang, ack_urgent_min = excluded.ack_urgent_min,
    ack_routine_min = excluded.ack_routine_min, priority = excluded.priority,
    active = excluded.active, demo = excluded.demo, updated_at = now();

-- name: LinkService :one
-- Sets the service to escalate to (none for an empty next). A next_service_id
-- that comes back NULL for a non-empty next names an unknown service.
UPDATE service SET next_service_id = (SELECT n.id FROM service n WHERE n.key = NULLIF(@next::text, ''))
WHERE service.key = @key RETURNING next_service_id;

-- name: DirectoryZone :one
-- The time zone most services are in.
SELECT timezone FROM service GROUP BY timezone ORDER BY count(*) DESC, timezone LIMIT 1;

-- name: ExportOrganizations :many
SELECT key, name, demo FROM organization ORDER BY key;

-- name: ExportServices :many
-- Every service, retired ones included, as the directory file writes it.
SELECT s.key, o.key AS organization_key, s.name, s.address, s.kind, s.needs, s.communities, s.hours, s.timezone,
       s.capacity, s.duty_phone, s.lang, s.ack_urgent_min, s.ack_routine_min, s.priority,
       COALESCE(n.key, '') AS next_key, s.active
FROM service s JOIN organization o ON o.id = s.organization_id
LEFT JOIN service n ON n.id = s.next_service_id
ORDER BY o.key, s.priority, s.key;

-- name: LockDirectory :exec
-- Two imports at once would each diff against the other's starting point.
LOCK TABLE organization, service IN SHARE ROW EXCLUSIVE MODE;

-- name: DirectoryHoldsOtherKind :one
-- Whether the database holds the other kind of directory than the file:
-- demo data for a real file, real providers for a demo one (ErrDemoMix).
SELECT EXISTS (SELECT 1 FROM organization WHERE demo <> @demo);

-- name: ActiveDutyPhones :many
-- The duty phones of active services, by name.
SELECT duty_phone, name FROM service WHERE active ORDER BY name, duty_phone;
