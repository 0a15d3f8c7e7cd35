package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/ringout-dialer/ringout/dialer"
)

// Keyring encrypts tokens at rest (AES-256-GCM): the current key seals, it and the previous
// keys open. Both stores use it, so a token sealed by one reads in the other.
type Keyring struct {
	aeads []cipher.AEAD // the current key's first, then previous keys' (decryption only)
}

// NewKeyring returns the keyring of key (32 bytes) and the keys used before it.
func NewKeyring(key []byte, previous ...[]byte) (*Keyring, error) {
	var aeads []cipher.AEAD
	for _, k := range append([][]byte{key}, previous...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("store: key must be 32 bytes, got %d", len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		aeads = append(aeads, aead)
	}
	return &Keyring{aeads: aeads}, nil
}

// Seal encrypts plaintext bound to ad with the current key: nonce || ciphertext.
func (k *Keyring) Seal(plaintext []byte, ad string) []byte {
	aead := k.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce) // never returns an error (crypto/rand, Go 1.24+)
	return aead.Seal(nonce, nonce, plaintext, []byte(ad))
}

// Open decrypts what Seal produced for the same ad, with the current key or a previous
// one; old reports a previous one (the caller may seal it again under the current key).
func (k *Keyring) Open(sealed []byte, ad string) (plain []byte, old bool, err error) {
	for i, aead := range k.aeads {
		n := aead.NonceSize()
		if len(sealed) < n+aead.Overhead() {
			return nil, false, ErrDecrypt
		}
		if plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(ad)); err == nil {
			return plain, i > 0, nil
		}
	}
	return nil, false, ErrDecrypt
}

// SealToken encodes and seals a session's tokens, bound to its id.
func (k *Keyring) SealToken(sessionID string, tok Token) ([]byte, error) {
	plain, err := json.Marshal(tok)
	if err != nil {
		return nil, fmt.Errorf("store: encode token: %w", err)
	}
	return k.Seal(plain, sessionID), nil
}

// SealedToken is a session's id and its token as stored (sealed with the id as ad).
type SealedToken struct {
	ID     string
	Sealed []byte
}

// Rekey opens each token: one no key opens is listed in undecryptable; one sealed under a
// previous key is handed to reseal (which seals plain again under the current key unless the
// row changed meanwhile) and counted in rekeyed when reseal reports it written.
func (k *Keyring) Rekey(tokens []SealedToken, reseal func(id string, sealed, plain []byte) bool) (rekeyed int, undecryptable []string) {
	for _, t := range tokens {
		plain, old, err := k.Open(t.Sealed, t.ID)
		switch {
		case err != nil:
			undecryptable = append(undecryptable, t.ID)
		case old && reseal(t.ID, t.Sealed, plain):
			rekeyed++
		}
	}
	return rekeyed, undecryptable
}

// OpenToken opens what SealToken sealed; plain is the decoded JSON (to seal it again under
// the current key when old). ErrDecrypt when no key opens it.
func (k *Keyring) OpenToken(sessionID string, sealed []byte) (tok Token, plain []byte, old bool, err error) {
	plain, old, err = k.Open(sealed, sessionID)
	if err != nil {
		return Token{}, nil, false, err
	}
	if err := json.Unmarshal(plain, &tok); err != nil {
		return Token{}, nil, false, ErrDecrypt
	}
	return tok, plain, old, nil
}

// PendingPrefix starts the placeholder id of a call being placed (BeginCall): RingCentral's
// ids are digits or base64, never with a colon.
const PendingPrefix = pendingPrefix

// NewPendingID returns a fresh placeholder id for BeginCall.
func NewPendingID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return pendingPrefix + fmt.Sprintf("%x", b)
}

// ErrDamaged marks a call row whose history does not decode (DecodeHistory).
var ErrDamaged = errDamaged

// DecodeHistory decodes a stored history into c; a history that does not decode leaves
// c.History nil and returns an error matching ErrDamaged.
func DecodeHistory(c *dialer.Call, history string) error {
	if err := json.Unmarshal([]byte(history), &c.History); err != nil {
		c.History = nil
		return fmt.Errorf("call %s: history: %w: %w", c.ID, errDamaged, err)
	}
	return nil
}

// Unreadable is what a damaged row becomes: a final call that says its record could not be
// read, keeping what could (numbers, times, the last status's legs).
func Unreadable(c dialer.Call) dialer.Call { return unreadable(c) }

// StateHash is how a sign-in attempt's state is stored and looked up (hex SHA-256).
func StateHash(state string) string { return stateHash(state) }
