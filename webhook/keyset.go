package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"

	"github.com/mamoru-id/mamoru"
)

// SigningKeySecret is the name of the SET signing key in the secret store
// (mamoru.SecretStore): a PKCS #8 DER EC P-256 private key.
const SigningKeySecret = "webhook-set-signing-key"

// KeySet holds the ES256 key that signs Security Event Tokens. Every
// instance of a cluster loads the same key from the database. The public
// half is published as a JWK Set (JWKSHandler); its "kid" is the RFC 7638
// thumbprint of the key.
type KeySet struct {
	key    *ecdsa.PrivateKey
	kid    string
	header string // base64url of the JOSE header, ready to sign with
	jwks   []byte
}

// NewKeySet loads the SET signing key from store, creating it on first use:
// a fresh P-256 key is offered with EnsureSecret, and whichever instance
// stores its candidate first wins. Call it once at startup.
func NewKeySet(ctx context.Context, store mamoru.Store) (*KeySet, error) {
	candidate, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webhook: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(candidate)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode signing key: %w", err)
	}
	var stored []byte
	err = store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		stored, err = tx.EnsureSecret(ctx, SigningKeySecret, der)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: load signing key: %w", err)
	}
	return ParseKeySet(stored)
}

// ParseKeySet returns a KeySet over a PKCS #8 DER EC P-256 private key.
func ParseKeySet(pkcs8 []byte) (*KeySet, error) {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("webhook: signing key %s: %w", SigningKeySecret, err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("webhook: signing key %s is not an EC P-256 key", SigningKeySecret)
	}
	point, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil || len(point) != 65 {
		return nil, fmt.Errorf("webhook: signing key %s: bad public key", SigningKeySecret)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := b64(point[1:33]), b64(point[33:])
	// RFC 7638: the required members in lexicographic order, no spaces.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	kid := b64(sum[:])

	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{"ES256", kid, "secevent+jwt"}) // explicit typing: RFC 8417 §2.3, SSF 1.0
	if err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "x": x, "y": y,
		"kid": kid, "use": "sig", "alg": "ES256",
	}}})
	if err != nil {
		return nil, err
	}
	return &KeySet{key: priv, kid: kid, header: b64(header), jwks: jwks}, nil
}

// KeyID returns the "kid" of the signing key (its RFC 7638 thumbprint).
func (k *KeySet) KeyID() string { return k.kid }

// PublicKey returns the public half of the signing key.
func (k *KeySet) PublicKey() *ecdsa.PublicKey { return &k.key.PublicKey }

// JWKS returns the public JWK Set document.
func (k *KeySet) JWKS() []byte { return append([]byte(nil), k.jwks...) }

// JWKSHandler serves the public JWK Set (RFC 7517) as
// application/jwk-set+json, for GET and HEAD. Mount it at
// /.well-known/jwks.json.
func (k *KeySet) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(k.jwks)
	})
}

// sign returns the compact JWS of claims (JSON) with ES256.
func (k *KeySet) sign(claims []byte) (string, error) {
	enc := base64.RawURLEncoding
	n := len(k.header) + 1 + enc.EncodedLen(len(claims))
	buf := make([]byte, 0, n+1+enc.EncodedLen(64))
	buf = append(buf, k.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, claims)
	digest := sha256.Sum256(buf)
	der, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("webhook: sign: %w", err)
	}
	// JWS (RFC 7518 §3.4) wants R || S, each 32 bytes, not ASN.1.
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return "", errors.New("webhook: sign: malformed ECDSA signature")
	}
	var raw [64]byte
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, raw[:])
	return string(buf), nil
}
