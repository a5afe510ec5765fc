package mamoru

import (
	"context"
	"time"
)

// EventType names a security event. The values are stable: they appear in
// the API, in webhooks and in the database.
type EventType string

// The security events.
const (
	// Sign-in and sessions. A sign-in attempt is recorded even when the
	// account is unknown (AccountID ""), so that every attempt costs the
	// same and attack protection can count them.
	EventSignInSucceeded EventType = "sign_in.succeeded"
	EventSignInFailed    EventType = "sign_in.failed"
	EventSessionEnded    EventType = "session.ended"

	// The account and its credentials.
	EventAccountCreated         EventType = "account.created"
	EventEmailVerified          EventType = "email.verified"
	EventPasswordChanged        EventType = "password.changed"
	EventPasswordResetRequested EventType = "password.reset_requested"
	EventPasswordReset          EventType = "password.reset"
	EventPasswordResetRequired  EventType = "password.reset_required"
	EventEmailChanged           EventType = "email.changed"
	EventEmailChangeReverted    EventType = "email.change_reverted"
	EventPhoneChanged           EventType = "phone.changed"
	EventPhoneRemoved           EventType = "phone.removed"
	EventSettingsChanged        EventType = "settings.changed"
	EventAccountLocked          EventType = "account.locked"
	EventAccountRestricted      EventType = "account.restricted"
	EventAccountUnlocked        EventType = "account.unlocked"
	EventSignInLockedOut        EventType = "sign_in.locked_out" // the address was locked after failed attempts
	EventSignInApproved         EventType = "sign_in.approved"   // the owner approved a sign-in attempt
	EventSignInDenied           EventType = "sign_in.denied"     // the owner denied a sign-in attempt
	EventTwoStepAdded           EventType = "two_step.added"     // a 2-step method was added (or backup codes made anew); Details method, name
	EventTwoStepRemoved         EventType = "two_step.removed"   // a 2-step method was removed; Details method, name
	EventTwoStepReplayed        EventType = "two_step.replayed"  // a used code (authenticator app, backup code) was entered again and refused
	EventSteppedUp              EventType = "session.stepped_up" // the session's owner proved a second factor (or the password) again for a sensitive change

	// The owner's answers and what follows from them.
	EventConfirmed              EventType = "event.confirmed"
	EventDenied                 EventType = "event.denied"
	EventSecureAccountStarted   EventType = "secure_account.started"
	EventSecureAccountCompleted EventType = "secure_account.completed"
	EventChangeUndone           EventType = "change.undone"

	// Messages.
	EventNotificationSent EventType = "notification.sent"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventSignInSucceeded, EventSignInFailed, EventSessionEnded,
	EventAccountCreated, EventEmailVerified, EventPasswordChanged, EventPasswordResetRequested,
	EventPasswordReset, EventPasswordResetRequired, EventEmailChanged, EventEmailChangeReverted,
	EventPhoneChanged, EventPhoneRemoved, EventSettingsChanged, EventAccountLocked,
	EventAccountRestricted, EventAccountUnlocked, EventSignInLockedOut, EventSignInApproved, EventSignInDenied,
	EventTwoStepAdded, EventTwoStepRemoved, EventTwoStepReplayed, EventSteppedUp,
	EventConfirmed, EventDenied, EventSecureAccountStarted, EventSecureAccountCompleted,
	EventChangeUndone, EventNotificationSent,
}

// Outcomes of sign-in attempts (Event.Outcome). They match SignInStatus
// values where one exists.
const (
	OutcomeSuccess = "success"
)

// Detail keys used in Event.Details.
const (
	DetailOldEmail = "old_email"
	DetailNewEmail = "new_email"
	DetailOldPhone = "old_phone"
	DetailNewPhone = "new_phone"
	DetailReason   = "reason"    // why a session ended, why an account was locked
	DetailMethod   = "method"    // two_step.*, session.stepped_up: the 2-step method (a CredentialKind, or a Method)
	DetailName     = "name"      // two_step.*: the owner's label of the method
	DetailTemplate = "template"  // notification.sent: the message template
	DetailChannel  = "channel"   // notification.sent: email, sms
	DetailTo       = "to"        // notification.sent: the masked recipient
	DetailEventID  = "event_id"  // event.confirmed/denied, change.undone: the event answered or undone
	DetailNew      = "new"       // sign_in.succeeded: "device", "place" or "device,place" when the owner was notified
	DetailActor    = "actor"     // "owner", "operator", "system"
	DetailDeviceID = "device_id" // sign-in attempts: the ID of the browser's signed device cookie
)

// Feedback is the owner's answer to "Was this you?".
type Feedback string

// The answers.
const (
	FeedbackNone      Feedback = ""
	FeedbackConfirmed Feedback = "confirmed" // "yes, that was me"
	FeedbackDenied    Feedback = "denied"    // "no, that wasn't me"
)

// Place is where an IP address is, approximately, as a GeoIP database saw
// it when the event happened. Names are in English, with the Japanese name
// where the database has one. The zero Place means "unknown".
type Place struct {
	Country   string  `json:"country,omitempty"` // ISO 3166-1 alpha-2, e.g. "JP"
	Region    string  `json:"region,omitempty"`  // e.g. "Tokyo"
	RegionJA  string  `json:"region_ja,omitempty"`
	City      string  `json:"city,omitempty"` // e.g. "Shinjuku"
	CityJA    string  `json:"city_ja,omitempty"`
	Latitude  float64 `json:"lat,omitempty"`
	Longitude float64 `json:"lon,omitempty"`
	HasCoords bool    `json:"has_coords,omitempty"`
	RadiusKM  int     `json:"radius_km,omitempty"` // accuracy radius, when known
	ASN       uint32  `json:"asn,omitempty"`
	Org       string  `json:"org,omitempty"` // the ASN's organisation
}

// Known reports whether anything about the place is known.
func (p Place) Known() bool { return p.Country != "" || p.ASN != 0 }

// Device is what a User-Agent says about the client. A field is "" when
// unknown. Browser and OS names come from fixed lists, never from the
// header's text.
type Device struct {
	Browser        string `json:"browser,omitempty"`         // e.g. "Chrome"
	BrowserVersion string `json:"browser_version,omitempty"` // major version only, e.g. "131"
	OS             string `json:"os,omitempty"`              // e.g. "Windows", "iOS"
	OSVersion      string `json:"os_version,omitempty"`      // major version only; "" for macOS
	Type           string `json:"type,omitempty"`            // desktop, mobile, tablet, bot, unknown
}

// Known reports whether anything about the device is known.
func (d Device) Known() bool { return d.Browser != "" || d.OS != "" }

// Event is one security event: something that happened to an account (or,
// for sign-in attempts on unknown addresses, to no account), when, and from
// where. Events are append-only but for the owner's Feedback.
type Event struct {
	ID         string
	AccountID  string // "" when no account is involved
	Type       EventType
	Time       time.Time
	IP         string
	UserAgent  string
	Place      Place
	Device     Device
	SessionID  string            // the session that acted, or that started or ended
	Outcome    string            // sign-in attempts: OutcomeSuccess or a SignInStatus
	Details    map[string]string // type-specific, keys Detail*
	Risk       *RiskSummary      // sign-in attempts that reached the risk engine; nil otherwise
	Feedback   Feedback
	FeedbackAt time.Time
}

// EventFilter selects events for ListEvents.
type EventFilter struct {
	AccountID   string      // required unless AllAccounts
	AllAccounts bool        // operators: every account, and attempts on none
	Types       []EventType // nil for all
	Since       time.Time   // only events at or after Since (zero: no bound)
	BeforeID    string      // paging: only events older than this one ("" for the newest)
	Limit       int         // 0 means a default of 100
}

// EventStore persists security events.
type EventStore interface {
	// AppendEvent inserts e; e.ID must be set and e.Time not zero.
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns events newest first (ties by insertion order,
	// newest first).
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// EventByID returns ENotFound if none.
	EventByID(ctx context.Context, id string) (*Event, error)
	// SetEventFeedback records the owner's answer once: EConflict if the
	// event has an answer already, ENotFound if there is no such event.
	SetEventFeedback(ctx context.Context, id string, fb Feedback, at time.Time) error
	// DeleteEventsBefore removes events that happened before t (retention)
	// and returns how many.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}

// EventRecorder records a security event inside a transaction: it fills
// in the ID, the time, the place and the device from the IP and the
// User-Agent, stores the event, and hands it to the subscribers (webhooks)
// in the same transaction, so that an event and its deliveries are
// committed together with the change.
type EventRecorder interface {
	// Enrich fills in what Record would (ID, time, place, device)
	// without storing anything, for callers that decide on the event's
	// content from its place or device before recording it.
	Enrich(e *Event)
	Record(ctx context.Context, tx Tx, e *Event) error
}
