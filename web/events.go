package web

import (
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/risk"
)

// Security events are worded for their owner here, the same way on the
// events page, the login history, the secure-account review, the
// one-click answer page and in the API's text fields. Every event type has
// a text "web.event.<type>"; a test checks that each of mamoru.EventTypes
// has one in every language.

// eventTextID returns the catalog ID of an event's summary.
func eventTextID(e *mamoru.Event) string {
	if e.Type == mamoru.EventPhoneChanged && e.Details[mamoru.DetailOldPhone] == "" {
		return "web.event.phone.added"
	}
	return "web.event." + string(e.Type)
}

// eventText is the one-line summary of an event in lang, e.g. "Email
// address changed from a***@example.com to b***@example.net". Email
// addresses and phone numbers from the details are masked.
func (s *Server) eventText(lang mamoru.Language, e *mamoru.Event) string {
	return s.cat.T(lang, eventTextID(e), map[string]any{
		"OldEmail": maskEmail(e.Details[mamoru.DetailOldEmail]),
		"NewEmail": maskEmail(e.Details[mamoru.DetailNewEmail]),
		"OldPhone": maskPhone(e.Details[mamoru.DetailOldPhone]),
		"NewPhone": maskPhone(e.Details[mamoru.DetailNewPhone]),
		"To":       nonEmptyOr(e.Details[mamoru.DetailTo], "—"),
	})
}

// reasonTexts word the known reasons of session.ended (and of locks); an
// unknown reason is not shown.
var reasonTexts = map[string]string{
	mamoru.RevokeSignOut:        "web.event.reason.signout",
	mamoru.RevokeSignOutAll:     "web.event.reason.signout_everywhere",
	mamoru.RevokeByOwner:        "web.event.reason.revoked_by_owner",
	mamoru.RevokePasswordChange: "web.event.reason.password_changed",
	mamoru.RevokePasswordReset:  "web.event.reason.password_reset",
	mamoru.RevokeOperator:       "web.event.reason.operator",
	mamoru.RevokeRotated:        "web.event.reason.rotated",
}

// actorTexts word who acted, when it was not the owner.
var actorTexts = map[string]string{
	"operator": "web.event.actor.operator",
	"system":   "web.event.actor.system",
}

// eventNote is a second line for an event: the reason and who acted, or
// "".
func (s *Server) eventNote(lang mamoru.Language, e *mamoru.Event) string {
	var parts []string
	if id, ok := reasonTexts[e.Details[mamoru.DetailReason]]; ok {
		parts = append(parts, s.cat.T(lang, id, nil))
	}
	if id, ok := actorTexts[e.Details[mamoru.DetailActor]]; ok {
		parts = append(parts, s.cat.T(lang, id, nil))
	}
	return strings.Join(parts, " ")
}

// signInFailureTexts word the outcomes of failed sign-in attempts; others
// are "failed".
var signInFailureTexts = map[string]string{
	string(mamoru.InvalidCredentials):    "web.outcome.invalid_credentials",
	string(mamoru.ChallengeRequired):     "web.outcome.challenge_required",
	string(mamoru.ApprovalRequired):      "web.outcome.approval_required",
	string(mamoru.PasswordResetRequired): "web.outcome.password_reset_required",
	string(mamoru.Locked):                "web.outcome.locked",
	string(mamoru.Restricted):            "web.outcome.restricted",
}

// outcomeText words the outcome of a sign-in attempt.
func (s *Server) outcomeText(lang mamoru.Language, e *mamoru.Event) string {
	if e.Outcome == mamoru.OutcomeSuccess || e.Outcome == string(mamoru.SignedIn) {
		return s.cat.T(lang, "web.outcome.success", nil)
	}
	if id, ok := signInFailureTexts[e.Outcome]; ok {
		return s.cat.T(lang, id, nil)
	}
	return s.cat.T(lang, "web.outcome.failed", nil)
}

// signInSucceeded reports whether an event is a successful sign-in.
func signInSucceeded(e *mamoru.Event) bool {
	return e.Type == mamoru.EventSignInSucceeded
}

// answerableTypes are the events the owner is asked "Was this you?"
// about: the ones a thief would cause.
var answerableTypes = map[mamoru.EventType]bool{
	mamoru.EventSignInSucceeded:        true,
	mamoru.EventPasswordChanged:        true,
	mamoru.EventPasswordReset:          true,
	mamoru.EventPasswordResetRequested: true,
	mamoru.EventEmailChanged:           true,
	mamoru.EventPhoneChanged:           true,
	mamoru.EventPhoneRemoved:           true,
	mamoru.EventSettingsChanged:        true,
}

// answerable reports whether the owner may still answer "Was this you?"
// about e: a change they could have made, not answered yet, not made by
// an operator or the system.
func answerable(e *mamoru.Event) bool {
	if !answerableTypes[e.Type] || e.Feedback != mamoru.FeedbackNone {
		return false
	}
	a := e.Details[mamoru.DetailActor]
	return a == "" || a == "owner"
}

// maskEmail masks an address for display ("a***@example.com"), "—" when
// there is none.
func maskEmail(addr string) string {
	if addr == "" {
		return "—"
	}
	return emailaddr.Mask(addr)
}

// maskPhone keeps the last four digits of a number ("***5678"), "—" when
// there is none.
func maskPhone(phone string) string {
	if phone == "" {
		return "—"
	}
	var digits []byte
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) <= 4 {
		return "***"
	}
	return "***" + string(digits[len(digits)-4:])
}

func nonEmptyOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// displayZone is the time zone to show times in: the account's when
// signed in ("" is UTC), else Tokyo for Japanese readers and UTC for
// others.
func displayZone(lang mamoru.Language, acct *mamoru.Account) string {
	if acct != nil {
		return acct.TimeZone
	}
	if lang == mamoru.Japanese {
		return "Asia/Tokyo"
	}
	return ""
}

// eventRow is an event as the pages show it: every field already worded
// in the page's language.
type eventRow struct {
	ID         string
	Type       string
	Text       string // the summary
	Note       string // reason, actor; may be ""
	Time       string
	Device     string
	Place      string // approximate
	Network    string // "AS2516 KDDI Corporation" or ""
	IP         string
	SignIn     bool   // a sign-in attempt (the history)
	Success    bool   // a successful sign-in attempt
	Outcome    string // sign-in attempts: the outcome worded
	Answerable bool   // "Was this you?" may be asked
	Feedback   string // the owner's answer worded, or ""
	Denied     bool   // the answer was "no"
	FeedbackAt string
	Undone     bool     // undone in the secure-account flow
	Risk       string   // the risk decision worded, or ""
	Reasons    []string // why, worded
}

// eventRow words e for a page in lang, with times in the zone tz.
func (s *Server) eventRow(lang mamoru.Language, tz string, e *mamoru.Event) eventRow {
	row := eventRow{
		ID:         e.ID,
		Type:       string(e.Type),
		Text:       s.eventText(lang, e),
		Note:       s.eventNote(lang, e),
		Time:       formatTime(lang, tz, e.Time),
		Device:     display.Device(s.cat, lang, e.Device),
		Place:      display.PlaceApprox(s.cat, lang, e.Place),
		Network:    display.Network(e.Place),
		IP:         e.IP,
		Answerable: answerable(e),
	}
	if e.Type == mamoru.EventSignInSucceeded || e.Type == mamoru.EventSignInFailed {
		row.SignIn = true
		row.Success = signInSucceeded(e)
		row.Outcome = s.outcomeText(lang, e)
		if e.Risk != nil {
			row.Risk = s.cat.T(lang, "web.risk.decision."+e.Risk.Decision, nil)
			for _, r := range e.Risk.Reasons {
				row.Reasons = append(row.Reasons, risk.Explain(s.cat, lang, risk.Reason{Code: r.Code, Params: r.Params}))
			}
		}
	}
	switch e.Feedback {
	case mamoru.FeedbackConfirmed:
		row.Feedback = s.cat.T(lang, "web.feedback.confirmed", nil)
	case mamoru.FeedbackDenied:
		row.Feedback = s.cat.T(lang, "web.feedback.denied", nil)
		row.Denied = true
	}
	if !e.FeedbackAt.IsZero() {
		row.FeedbackAt = formatTime(lang, tz, e.FeedbackAt)
	}
	return row
}

// formatTime writes t for people in zone tz, "—" for the zero time.
func formatTime(lang mamoru.Language, tz string, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return display.Time(lang, tz, t)
}
