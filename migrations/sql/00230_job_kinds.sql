-- Job kinds follow one convention, <owning package>.<what it does>, so that
-- a kind says which package's worker runs it. Jobs already queued under an
-- old name are renamed with it; their unique keys keep the old name's hash,
-- which can at most let one duplicate of a pending job in, and every worker
-- re-reads its row and does nothing twice.
-- +goose Up
UPDATE river_job SET kind = 'referral.dispatch' WHERE kind = 'referral_dispatch';
UPDATE river_job SET kind = 'referral.ack_deadline' WHERE kind = 'referral_ack_deadline';
UPDATE river_job SET kind = 'referral.serve_deadline' WHERE kind = 'referral_serve_deadline';
-- Sending texts and purging Twilio's copies moved from hotline to sms.
UPDATE river_job SET kind = 'sms.send' WHERE kind = 'hotline.send_sms';
UPDATE river_job SET kind = 'sms.twilio_purge' WHERE kind = 'hotline.twilio_purge';

-- +goose Down
UPDATE river_job SET kind = 'referral_dispatch' WHERE kind = 'referral.dispatch';
UPDATE river_job SET kind = 'referral_ack_deadline' WHERE kind = 'referral.ack_deadline';
UPDATE river_job SET kind = 'referral_serve_deadline' WHERE kind = 'referral.serve_deadline';
UPDATE river_job SET kind = 'hotline.send_sms' WHERE kind = 'sms.send';
UPDATE river_job SET kind = 'hotline.twilio_purge' WHERE kind = 'sms.twilio_purge';
