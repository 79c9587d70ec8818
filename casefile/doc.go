// Package casefile owns what Amparo knows about survivors: contacts (a phone
// number she writes from, her code word), cases (needs, consent, how she may
// be contacted, clinical deadlines, her account of what happened), caseworker
// notes and follow-up tasks. It is the only code that reads or writes the
// contact, case_file, case_key, case_note and follow_up tables; callers get
// and give plaintext domain types and never see a sealed column.
//
// The words those tables are written in (case and follow-up statuses,
// needs, follow-up kinds, languages, incident types) are Go types in
// vocab.go, one spelling each; a test holds them to the tables' CHECKs.
// A case's code is split by what it does to the row: case.go (its types),
// case_write.go, case_query.go and case_erase.go.
//
// Its SQL is in queries/*.sql (cases, contacts, notes, desk, keys, verify),
// named queries turned into Go in internal/casefiledb by sqlc; being
// internal, nothing outside the package can run them. Reads of a case take
// the whole case_file row, so the schema is the one list of its columns,
// and factsOf is the one place that turns a row into Facts, Case or
// CaseSummary. What stays in Go is the keyring's audit over every package's
// key columns, known only at run time (KeyStatus and VerifyKeys read the
// columns each KeyHolder declares; they write nothing). Each KeyHolder
// re-wraps its own rows through its own queries, with RewrapRowKey.
//
// Every contact and every case has its own data key (DEK), stored wrapped by
// the keyring's current key-encryption key (KEK), made by crypto.NewRowKey. Identifying or narrative
// fields are sealed with that DEK, bound to their table, column and row
// (crypto.Binding), so a ciphertext copied to another row does not open.
// Plaintext columns carry only coarse operational facts, enough to list,
// order and count cases without decrypting anything.
//
// Erasure is crypto-shredding: EraseCase destroys the case's wrapped DEK (and,
// to keep live tables clean, drops its ciphertexts); EraseContact does that
// for her contact key and every one of her cases and removes her phone index,
// so a later message from her number starts afresh. Lists and counts keep
// working on the plaintext columns; every path that would decrypt returns
// ErrErased.
//
// A returning number is found through a blind index (HMAC of the E.164
// number), trying every accepted index key during an index-key rotation.
// Caller ID can be spoofed, so a match alone discloses nothing: the hotline
// must first get her code word right (CheckCodeWord), which is stored only as
// a keyed one-way token.
//
// Key rotation is a River job (RewrapArgs): it moves DEKs still wrapped by an
// older KEK to the current one, and re-indexes phone numbers under the
// current index key, in small committed batches so that a crash resumes where
// it stopped. Other packages' tables of wrapped keys and phone indexes join it
// as KeyHolders. KeyStatus says which keys are still in use, in every
// KeyColumn, and which can be retired.
package casefile
