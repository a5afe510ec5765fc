package web

import (
	"testing"

	"github.com/mamoru-id/mamoru"
)

func TestEveryEventTypeHasText(t *testing.T) {
	ids := []string{"web.event.phone.added", "web.outcome.success", "web.outcome.failed", "web.feedback.confirmed", "web.feedback.denied"}
	for _, typ := range mamoru.EventTypes {
		ids = append(ids, eventTextID(&mamoru.Event{Type: typ, Details: map[string]string{mamoru.DetailOldPhone: "+1"}}))
	}
	for _, m := range []map[string]string{reasonTexts, actorTexts, signInFailureTexts} {
		for _, id := range m {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		for _, l := range mamoru.Languages {
			if !testCatalog.Has(l, id) {
				t.Errorf("%s: no text %s", l, id)
			}
		}
	}
}

func TestEventText(t *testing.T) {
	e := newEnv(t, false)
	for _, c := range []struct {
		ev   mamoru.Event
		lang mamoru.Language
		want string
	}{
		{mamoru.Event{Type: mamoru.EventEmailChanged, Details: map[string]string{"old_email": "alice@example.com", "new_email": "bob@example.net"}},
			mamoru.English, "Email address changed from a***@example.com to b***@example.net"},
		{mamoru.Event{Type: mamoru.EventEmailChanged, Details: map[string]string{"old_email": "alice@example.com", "new_email": "bob@example.net"}},
			mamoru.Japanese, "メールアドレスが a***@example.com から b***@example.net に変更されました"},
		{mamoru.Event{Type: mamoru.EventPhoneChanged, Details: map[string]string{"old_phone": "", "new_phone": "+819012345678"}},
			mamoru.English, "Phone number ***5678 added"},
		{mamoru.Event{Type: mamoru.EventPhoneRemoved, Details: map[string]string{"old_phone": "+819012345678"}},
			mamoru.English, "Phone number ***5678 removed"},
		{mamoru.Event{Type: mamoru.EventPasswordChanged}, mamoru.English, "Password changed"},
		{mamoru.Event{Type: mamoru.EventEmailChanged}, mamoru.English, "Email address changed from — to —"},
	} {
		if got := e.srv.eventText(c.lang, &c.ev); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.ev.Type, c.lang, got, c.want)
		}
	}
	note := e.srv.eventNote(mamoru.English, &mamoru.Event{Details: map[string]string{"reason": "investigation", "actor": "operator"}})
	if note != "Done by our support team." {
		t.Errorf("note %q", note)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+819012345678": "***5678", "090-1234-5678": "***5678", "": "—", "1234": "***", "+1": "***",
	} {
		if got := maskPhone(in); got != want {
			t.Errorf("maskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAnswerable(t *testing.T) {
	for _, c := range []struct {
		e    mamoru.Event
		want bool
	}{
		{mamoru.Event{Type: mamoru.EventSignInSucceeded}, true},
		{mamoru.Event{Type: mamoru.EventSignInFailed}, false},
		{mamoru.Event{Type: mamoru.EventEmailChanged, Details: map[string]string{"actor": "owner"}}, true},
		{mamoru.Event{Type: mamoru.EventEmailChanged, Feedback: mamoru.FeedbackConfirmed}, false},
		{mamoru.Event{Type: mamoru.EventPasswordResetRequired, Details: map[string]string{"actor": "operator"}}, false},
		{mamoru.Event{Type: mamoru.EventSettingsChanged, Details: map[string]string{"actor": "system"}}, false},
		{mamoru.Event{Type: mamoru.EventDenied}, false},
	} {
		if got := answerable(&c.e); got != c.want {
			t.Errorf("%s %v: %v", c.e.Type, c.e.Details, got)
		}
	}
}
