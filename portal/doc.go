// Package portal is the staff web: sign-in (password and TOTP, both
// mandatory), server-side sessions, cross-origin protection, the one policy
// function that answers every access question, the caseworker's desk, and a
// provider's inbox of its organisation's referrals.
//
// Every route is in routes.go, one handler per file named after its action.
// Handlers return an error; one adapter (errors.go) maps typed errors to a
// status and a short page with the request id, and never shows err.Error().
//
// The portal never imports the hotline or a Twilio client: it reads and
// writes cases through casefile, referrals through referral, and leaves
// messages to a survivor to the Messenger that cmd/amparo wires.
//
// It owns staff_user, and sweeps the sessions table whose rows scs's
// pgxstore writes. Its SQL is in queries/*.sql, turned into Go in
// internal/portaldb by sqlc (make generate); being internal, nothing
// outside portal can run it.
package portal
