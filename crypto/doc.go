// Package crypto holds every cryptographic decision Amparo makes, so the rest
// of the system can treat sealed fields as opaque bytes and never choose a
// primitive itself. It imports no other Amparo package and does not log: the
// only way information leaves it is through return values, and errors never
// carry key material, plaintext or phone numbers.
//
// # What is sealed
//
// Anything that identifies a survivor or narrates what happened (names, phone
// numbers, notes, code words, TOTP secrets, ...) is stored only as a sealed
// blob. Plaintext columns hold coarse operational facts and ids.
//
// # Key hierarchy
//
// There are three layers of keys.
//
//   - Key-encryption keys (KEKs) live outside the database, in a keyring file
//     or environment secret (see [LoadKeyring]). Each has an id such as
//     "kek-20261127-ab12". The first KEK in the keyring is the newest and is
//     the only one that wraps new data keys; older KEKs stay in the keyring so
//     that data keys wrapped by them still unwrap until a re-wrap job has moved
//     every row to the newest KEK and the old one can be retired. KEK custody
//     sits behind [KeyWrapper] so a cloud KMS can replace the keyring without
//     touching callers.
//   - Data keys ([DataKey]): every case and every contact gets its own random
//     32-byte key. It is stored next to its row only in wrapped form, together
//     with the id of the KEK that wrapped it. Destroying the wrapped data key
//     makes everything sealed under it unreadable (crypto-shredding), which is
//     how retention and survivor-requested erasure work.
//   - Blind-index keys are separate 32-byte keys, also in the keyring, used
//     only for HMAC (see below). They are never used to encrypt, so a leak of
//     the index key reveals no ciphertext, and a leak of a KEK gives no way to
//     search by phone number.
//
// # Sealing format
//
// Both wrapping (KEK over data key) and sealing (data key over a field) use
// XChaCha20-Poly1305 from golang.org/x/crypto/chacha20poly1305 (NewX). Its
// 24-byte nonce is large enough to be drawn at random for every message
// without a realistic collision risk, so no nonce counter has to be kept in
// the database. A sealed value is
//
//	0x01 (format version) || 24-byte random nonce || ciphertext || 16-byte tag
//
// The version byte lets the format change later while old rows still open; an
// unknown version is reported as [ErrUnknownVersion] rather than guessed at.
//
// # Associated data binds a ciphertext to its place
//
// The AEAD's associated data is not stored; it is rebuilt by the reader from
// where the value was found. For a sealed field it encodes the format
// version, a domain label, and the table, column and row id ([Binding]), each
// length-prefixed (4-byte big endian) so that no two different bindings can
// produce the same bytes (with a plain separator, "a|b"+"c" and "a"+"b|c"
// would collide). A ciphertext copied to another row, column or table
// therefore fails to authenticate ([ErrDecrypt]) instead of being shown in the
// wrong case. A wrapped data key is bound the same way to its owner:
// [WrapDataKey] uses "dek|" + owner (for example "case_file|<uuid>") as
// associated data, and the keyring additionally binds the KEK id and its own
// domain label, so a wrapped key moved to another row does not unwrap.
//
// A row that keeps its own data key uses [RowKey], the one way to seal a
// row: [NewRowKey] makes and wraps the key for owner "<table>|<id>", and its
// Seal and Open bind each column to (table, column, id). Callers never
// assemble owners or bindings by hand, so no two rows can disagree on them.
//
// Failures are typed ([ErrTruncated], [ErrUnknownVersion], [ErrDecrypt],
// [ErrUnknownKEK]), usable with errors.Is. On any failure no plaintext, not
// even a partial one, is returned.
//
// # Blind index for returning survivors
//
// To recognise a survivor who texts again, the phone number is normalised to
// E.164 (by package phone, before it reaches this one) and the row stores
// HMAC-SHA256(index key, message), where the message is a domain label, a
// purpose ("phone.e164") and the value, length-prefixed like the associated
// data above. The purpose keeps tokens for different kinds of
// lookup ([BlindIndex.Token]) from ever matching each other. The number itself
// is sealed like any other field. An index key can be rotated: new rows are
// indexed under the first (current) key, and during the rotation window
// lookups try every accepted key ([BlindIndex.Candidates]) until a background
// job has re-indexed the old rows. Caller ID can be spoofed, so a match only
// says "maybe the same person"; it must never reveal case content by itself.
//
// # Passwords
//
// Staff passwords are hashed with Argon2id (golang.org/x/crypto/argon2) and
// stored as PHC strings ($argon2id$v=19$m=...,t=...,p=...$salt$hash). The
// parameters are defined once, in password.go, above the OWASP minimum and
// sized for a 2-core server (see the comment there). Because each hash holds
// tens of MiB for tens of milliseconds, [PasswordHasher] bounds how many run at
// once; callers beyond the bound wait until their context ends, so a login
// storm queues or fails fast instead of exhausting memory. Verification is
// constant-time in the comparison and reports when a stored hash uses weaker
// parameters than the current ones so the caller can re-hash on login.
package crypto
