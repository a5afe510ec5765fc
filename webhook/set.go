package webhook

import (
	"encoding/json"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Event type URIs of the Shared Signals Framework profiles used for SETs.
const (
	caepBase = "https://schemas.openid.net/secevent/caep/event-type/"
	riscBase = "https://schemas.openid.net/secevent/risc/event-type/"

	URISessionRevoked                  = caepBase + "session-revoked"
	URICredentialChange                = caepBase + "credential-change"
	URIAccountDisabled                 = riscBase + "account-disabled"
	URIAccountEnabled                  = riscBase + "account-enabled"
	URIAccountCredentialChangeRequired = riscBase + "account-credential-change-required"
	URICredentialCompromise            = riscBase + "credential-compromise"
	URIRecoveryInformationChanged      = riscBase + "recovery-information-changed"

	// MamoruEventTypeBase prefixes the event type URI of every mamoru
	// event with no standard counterpart: the URI is this base followed by
	// the mamoru event type, e.g. .../event-type/sign_in.succeeded.
	MamoruEventTypeBase = "https://mamoru.dev/secevent/event-type/"
)

// standardURIs maps mamoru event types to SSF (CAEP/RISC) event types; see
// docs/webhooks.md for why each was chosen.
var standardURIs = map[mamoru.EventType]string{
	mamoru.EventSessionEnded:          URISessionRevoked,
	mamoru.EventPasswordChanged:       URICredentialChange,
	mamoru.EventPasswordReset:         URICredentialChange,
	mamoru.EventPhoneChanged:          URICredentialChange,
	mamoru.EventPhoneRemoved:          URICredentialChange,
	mamoru.EventAccountLocked:         URIAccountDisabled,
	mamoru.EventAccountRestricted:     URIAccountDisabled,
	mamoru.EventAccountUnlocked:       URIAccountEnabled,
	mamoru.EventPasswordResetRequired: URIAccountCredentialChangeRequired,
	mamoru.EventDenied:                URICredentialCompromise,
	// mamoru does not own the email address (the mail provider does), so
	// RISC says Recovery Information Changed, not Identifier Changed.
	mamoru.EventEmailChanged:        URIRecoveryInformationChanged,
	mamoru.EventEmailChangeReverted: URIRecoveryInformationChanged,
}

// EventURI returns the SET event type URI that a mamoru event type is sent
// as: a CAEP or RISC type where one fits, else MamoruEventTypeBase + t.
func EventURI(t mamoru.EventType) string {
	if u, ok := standardURIs[t]; ok {
		return u
	}
	return MamoruEventTypeBase + string(t)
}

// setClaims is the JWT claims set of a SET, in a fixed member order.
// SSF 1.0 forbids "sub" and "exp".
type setClaims struct {
	Iss    string         `json:"iss"`
	Jti    string         `json:"jti"`
	Iat    int64          `json:"iat"`
	Aud    string         `json:"aud"`
	Txn    string         `json:"txn,omitempty"`
	Toe    int64          `json:"toe,omitempty"`
	SubID  map[string]any `json:"sub_id"`
	Events map[string]any `json:"events"` // exactly one event
}

// setEvent returns the SET "events" member name and object of e, and its
// subject (the top-level sub_id, SSF 1.0).
func setEvent(e *mamoru.Event, issuer string) (uri string, object any, subject map[string]any) {
	uri = EventURI(e.Type)
	event := map[string]any{}
	subject = userSubject(e, issuer)
	ts := e.Time.Unix()
	reason := e.Details[mamoru.DetailReason]

	switch uri {
	case URISessionRevoked:
		event["event_timestamp"] = ts
		if reason != "" {
			event["reason_admin"] = map[string]string{"en": reason}
		}
		initiator(event, e)
		if e.SessionID != "" && e.AccountID != "" {
			subject = map[string]any{
				"format":  "complex",
				"user":    subject,
				"session": map[string]any{"format": "opaque", "id": e.SessionID},
			}
		}
	case URICredentialChange:
		event["event_timestamp"] = ts
		initiator(event, e)
		switch e.Type {
		case mamoru.EventPhoneChanged:
			event["credential_type"] = "phone-sms"
			event["change_type"] = "update"
			if e.Details[mamoru.DetailOldPhone] == "" {
				event["change_type"] = "create"
			}
		case mamoru.EventPhoneRemoved:
			event["credential_type"] = "phone-sms"
			event["change_type"] = "delete"
		default: // password.changed, password.reset
			event["credential_type"] = "password"
			event["change_type"] = "update"
		}
	case URIAccountDisabled:
		if reason == "hijacking" {
			event["reason"] = "hijacking"
		}
	case URICredentialCompromise:
		event["credential_type"] = "password"
		event["event_timestamp"] = ts
		event["reason_admin"] = map[string]string{"en": "The account owner reported a security event as not theirs."}
	case URIAccountEnabled, URIAccountCredentialChangeRequired, URIRecoveryInformationChanged:
		// No attributes.
	default:
		// A mamoru event type: the event object is the JSON payload.
		return uri, NewPayload(e), subject
	}
	return uri, event, subject
}

// initiator sets the CAEP initiating_entity from the actor detail.
func initiator(event map[string]any, e *mamoru.Event) {
	switch e.Details[mamoru.DetailActor] {
	case "owner":
		event["initiating_entity"] = "user"
	case "operator":
		event["initiating_entity"] = "admin"
	case "system":
		event["initiating_entity"] = "system"
	}
}

// userSubject identifies the account as iss_sub (RFC 9493); for events on
// no account (sign-in attempts on unknown addresses) the client's IP
// address (SSF 1.0 "ip-addresses"), else an opaque "unknown".
func userSubject(e *mamoru.Event, issuer string) map[string]any {
	switch {
	case e.AccountID != "":
		return map[string]any{"format": "iss_sub", "iss": issuer, "sub": e.AccountID}
	case e.IP != "":
		return map[string]any{"format": "ip-addresses", "ip-addresses": []string{e.IP}}
	default:
		return map[string]any{"format": "opaque", "id": "unknown"}
	}
}

// buildSET returns the signed SET of e for one audience. jti is the
// delivery (message) ID, unique per SET; txn is the event ID, shared by
// the SETs of one event.
func buildSET(keys *KeySet, issuer, audience, deliveryID string, e *mamoru.Event, now time.Time) (string, error) {
	uri, event, subject := setEvent(e, issuer)
	claims := setClaims{
		Iss:    issuer,
		Jti:    deliveryID,
		Iat:    now.Unix(),
		Aud:    audience,
		Txn:    e.ID,
		Toe:    e.Time.Unix(),
		SubID:  subject,
		Events: map[string]any{uri: event},
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return keys.sign(b)
}
