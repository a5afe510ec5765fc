package mfa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// softKey is one credential of a softAuthenticator.
type softKey struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
	count      uint32
}

// softAuthenticator is a software WebAuthn authenticator and client for
// unit tests: it answers the options JSON of package mfa as a browser
// with a platform authenticator would (attestation "none", ES256), and
// each answer can be bent to test a refusal.
type softAuthenticator struct {
	origin string
	keys   []*softKey
	// counterStep is added to a key's counter at each use; 0 makes an
	// authenticator that never counts (as synced passkeys do).
	counterStep uint32
}

// bend changes what the authenticator answers.
type bend struct {
	origin    string // "" for the authenticator's own
	rpID      string // "" for the one in the options
	challenge []byte // nil for the one in the options
	typ       string // "" for webauthn.create / webauthn.get
	noUV      bool   // the user was not verified
	noUP      bool   // the user was not present
	key       *softKey
	count     *uint32 // the counter to report, instead of the next one
}

type optionsJSON struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

var b64 = base64.RawURLEncoding

func decodeOptions(t testing.TB, options []byte) optionsJSON {
	t.Helper()
	var o optionsJSON
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("options %s: %v", options, err)
	}
	return o
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

func (sa *softAuthenticator) clientData(t testing.TB, typ string, challenge []byte, b bend) []byte {
	t.Helper()
	if b.typ != "" {
		typ = b.typ
	}
	if b.challenge != nil {
		challenge = b.challenge
	}
	origin := sa.origin
	if b.origin != "" {
		origin = b.origin
	}
	cd, err := json.Marshal(map[string]any{"type": typ, "challenge": b64.EncodeToString(challenge), "origin": origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return cd
}

func authData(rpID string, flags byte, count uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}

func flagsOf(b bend) byte {
	f := byte(flagUP | flagUV)
	if b.noUV {
		f &^= flagUV
	}
	if b.noUP {
		f &^= flagUP
	}
	return f
}

// create makes a new key for the registration options and returns the
// response JSON (PublicKeyCredential.toJSON) and the key.
func (sa *softAuthenticator) create(t testing.TB, options []byte, b bend) ([]byte, *softKey) {
	t.Helper()
	o := decodeOptions(t, options)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &softKey{id: make([]byte, 32), key: priv, rpID: o.PublicKey.RP.ID, userHandle: mustB64(t, o.PublicKey.User.ID)}
	rand.Read(k.id)
	rpID := k.rpID
	if b.rpID != "" {
		rpID = b.rpID
	}
	ecdh, err := priv.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	raw := ecdh.Bytes() // 0x04 ‖ X ‖ Y
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: raw[1:33], YCoord: raw[33:],
	})
	if err != nil {
		t.Fatal(err)
	}
	ad := authData(rpID, flagsOf(b)|flagAT, k.count)
	ad = append(ad, make([]byte, 16)...) // AAGUID: none
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(k.id)))
	ad = append(ad, k.id...)
	ad = append(ad, cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		t.Fatal(err)
	}
	cd := sa.clientData(t, "webauthn.create", mustB64(t, o.PublicKey.Challenge), b)
	resp, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sa.keys = append(sa.keys, k)
	return resp, k
}

// get signs the login options with b.key, else the first of the
// authenticator's keys that the options allow, and returns the response
// JSON.
func (sa *softAuthenticator) get(t testing.TB, options []byte, b bend) []byte {
	t.Helper()
	o := decodeOptions(t, options)
	k := b.key
	for _, c := range sa.keys {
		if k != nil {
			break
		}
		if len(o.PublicKey.AllowCredentials) == 0 {
			k = c
		}
		for _, a := range o.PublicKey.AllowCredentials {
			if a.ID == b64.EncodeToString(c.id) {
				k = c
			}
		}
	}
	if k == nil {
		t.Fatal("the soft authenticator holds no allowed credential")
	}
	k.count += sa.counterStep
	count := k.count
	if b.count != nil {
		count = *b.count
	}
	rpID := o.PublicKey.RPID
	if b.rpID != "" {
		rpID = b.rpID
	}
	ad := authData(rpID, flagsOf(b), count)
	cd := sa.clientData(t, "webauthn.get", mustB64(t, o.PublicKey.Challenge), b)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(k.userHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
