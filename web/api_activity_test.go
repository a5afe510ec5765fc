package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

// decodeStrictJSON decodes an answer into v, refusing unknown fields.
func decodeStrictJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestLoginsAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("GET", "/api/v1/account/logins", "", sessionCookie())
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	var got eventListJSON
	decodeStrictJSON(t, rec.Body.Bytes(), &got)
	if len(got.Events) != 3 || got.NextBefore != nil || e.activity.lastPage != (mamoru.Page{Limit: apiDefaultLimit + 1}) {
		t.Fatalf("list %s (page %+v)", rec.Body, e.activity.lastPage)
	}
	ev := got.Events[0]
	if ev.ID != "ev-in-1" || ev.Type != "sign_in.succeeded" || ev.Time != "2025-03-01T09:00:00Z" || ev.IP != "203.0.113.5" ||
		ev.Place.City != "Kyoto" || ev.Place.ASN != 4713 || ev.Device.Browser != "Safari" || ev.Device.Type != "mobile" ||
		ev.PlaceText != "near Kyoto, Japan (approximate)" || ev.DeviceText != "Safari 17 on iOS 17" || ev.Text != "Signed in" ||
		ev.Outcome == nil || *ev.Outcome != "success" || !ev.Answerable || ev.Feedback != nil || ev.FeedbackAt != nil || ev.Details == nil {
		t.Errorf("event 0 = %+v", ev)
	}
	if ev := got.Events[2]; ev.Feedback == nil || *ev.Feedback != "denied" || ev.FeedbackAt == nil || *ev.FeedbackAt != "2025-02-27T09:00:00Z" || ev.Answerable {
		t.Errorf("event 2 = %+v", ev)
	}
	// The raw shape: nulls, not missing fields.
	var raw struct {
		Events     []map[string]any `json:"events"`
		NextBefore any              `json:"next_before"`
	}
	json.Unmarshal(rec.Body.Bytes(), &raw)
	for _, k := range []string{"feedback", "feedback_at", "details", "place", "device", "outcome"} {
		if _, ok := raw.Events[0][k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
	if !strings.Contains(rec.Body.String(), `"next_before":null`) {
		t.Errorf("next_before not null: %s", rec.Body)
	}
	// Paging.
	rec = e.api("GET", "/api/v1/account/logins?limit=2", "", sessionCookie())
	decodeStrictJSON(t, rec.Body.Bytes(), &got)
	if len(got.Events) != 2 || got.NextBefore == nil || *got.NextBefore != "ev-in-2" {
		t.Errorf("limit 2: %s", rec.Body)
	}
	rec = e.api("GET", "/api/v1/account/logins?limit=2&before=ev-in-2", "", sessionCookie())
	decodeStrictJSON(t, rec.Body.Bytes(), &got)
	if len(got.Events) != 1 || got.Events[0].ID != "ev-in-3" || got.NextBefore != nil || e.activity.lastPage.Before != "ev-in-2" {
		t.Errorf("page 2: %s", rec.Body)
	}
	e.api("GET", "/api/v1/account/logins?limit=1000", "", sessionCookie())
	if e.activity.lastPage.Limit != serviceMaxPage {
		t.Errorf("limit 1000 asked for %d", e.activity.lastPage.Limit)
	}
	for _, bad := range []string{"0", "-1", "x", "1.5"} {
		rec := e.api("GET", "/api/v1/account/logins?limit="+bad, "", sessionCookie())
		if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_request" {
			t.Errorf("limit %s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	// Language of the texts: the account's.
	e.sessions.accounts["acct-1"].Language = mamoru.Japanese
	rec = e.api("GET", "/api/v1/account/logins", "", sessionCookie())
	decodeStrictJSON(t, rec.Body.Bytes(), &got)
	if got.Events[0].Text != "ログインがありました" || got.Events[0].DeviceText != "iOS 17 の Safari 17" {
		t.Errorf("ja: %+v", got.Events[0])
	}
}

func TestEventsAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("GET", "/api/v1/account/events", "", sessionCookie())
	var got eventListJSON
	decodeStrictJSON(t, rec.Body.Bytes(), &got)
	if rec.Code != 200 || len(got.Events) != 5 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	ev := got.Events[0]
	if ev.Text != "Email address changed from a***@example.com to b***@example.net" || ev.Outcome != nil ||
		ev.Details["old_email"] != "a***@example.com" || ev.Details["new_email"] != "b***@example.net" {
		t.Errorf("email event %+v", ev)
	}
	if d := got.Events[1].Details; d["old_phone"] != "***5678" || d["new_phone"] != "***0123" {
		t.Errorf("phone details %v", d)
	}
	if strings.Contains(rec.Body.String(), "alice@") || strings.Contains(rec.Body.String(), "12345678") {
		t.Errorf("unmasked details: %s", rec.Body)
	}
	if got.Events[3].Details["reason"] != "signout_everywhere" || got.Events[4].Answerable {
		t.Errorf("details %+v", got.Events[3:])
	}
	// The service's error for an unknown before.
	e.activity.errs["Events"] = mamoru.Errorf(mamoru.ENotFound, "no such event")
	if rec := e.api("GET", "/api/v1/account/events?before=other", "", sessionCookie()); rec.Code != 404 {
		t.Errorf("unknown before: %d", rec.Code)
	}
}

func TestEventAnswersAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/account/events/ev-email/confirm", "", sessionCookie())
	if rec.Code != 204 || !e.activity.has("ConfirmEvent:ev-email") {
		t.Errorf("confirm: %d %s", rec.Code, rec.Body)
	}
	e.activity.errs["ConfirmEvent:ev-pw"] = mamoru.Errorf(mamoru.EConflict, "answered")
	if rec := e.api("POST", "/api/v1/account/events/ev-pw/confirm", "{}", sessionCookie()); rec.Code != 409 || decodeError(t, rec.Body.Bytes()).Code != "conflict" {
		t.Errorf("conflict: %d %s", rec.Code, rec.Body)
	}
	if rec := e.api("POST", "/api/v1/account/events/ev-email/confirm", `{"x":1}`, sessionCookie()); rec.Code != 400 {
		t.Errorf("body accepted: %d", rec.Code)
	}
	rec = e.api("POST", "/api/v1/account/events/ev-email/deny", "", sessionCookie())
	if rec.Code != 200 || rec.Body.String() != `{"status":"secure_account","flow_id":"`+secureFlowID+`"}` || !e.activity.has("DenyEvent:ev-email") {
		t.Fatalf("deny: %d %s", rec.Code, rec.Body)
	}
	cs := setCookies(rec)
	if cs[SecureCookie] != wantSecureCookie || !strings.Contains(cs[SessionCookie], "Max-Age=0") {
		t.Errorf("cookies %v", cs)
	}
	if strings.Contains(rec.Body.String(), secureSecret) {
		t.Errorf("flow secret in the body")
	}
	// Bearer clients get the flow cookie too.
	r := newJSONRequest("POST", "/api/v1/account/events/ev-phone/deny", "", "application/json")
	r.Header.Set("Authorization", "Bearer "+goodToken)
	if rec := e.do(r); rec.Code != 200 || setCookies(rec)[SecureCookie] != wantSecureCookie {
		t.Errorf("bearer deny: %d %v", rec.Code, setCookies(rec))
	}
}

func TestSecureAccountAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("GET", "/api/v1/secure-account", "")
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "flow_expired" || len(e.secure.list()) != 0 {
		t.Errorf("no cookie: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("GET", "/api/v1/secure-account", "", &http.Cookie{Name: SecureCookie, Value: secureFlowID + ".wrong"})
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "flow_expired" || !strings.Contains(setCookies(rec)[SecureCookie], "Max-Age=0") {
		t.Errorf("foreign flow: %d %s %v", rec.Code, rec.Body, setCookies(rec))
	}
	rec = e.api("GET", "/api/v1/secure-account", "", secureCookie())
	if rec.Code != 200 || rec.Body.String() != `{"step":"reset","masked_email":"u***@example.com","changes":[],"undone":[]}` {
		t.Errorf("reset step: %d %s", rec.Code, rec.Body)
	}
	if rec := e.api("POST", "/api/v1/secure-account/resend", "", secureCookie()); rec.Code != 202 || rec.Body.String() != `{"status":"code_sent"}` {
		t.Errorf("resend: %d %s", rec.Code, rec.Body)
	}
	e.secure.errs["ResetPassword"] = mamoru.Errorf(mamoru.EPasswordTooShort, "short")
	if rec := e.api("POST", "/api/v1/secure-account/reset", `{"code":"1","password":"x"}`, secureCookie()); rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "password_too_short" {
		t.Errorf("short: %d %s", rec.Code, rec.Body)
	}
	delete(e.secure.errs, "ResetPassword")
	rec = e.api("POST", "/api/v1/secure-account/reset", `{"code":" 123456 ","password":"a new password"}`, secureCookie())
	var st secureStateJSON
	decodeStrictJSON(t, rec.Body.Bytes(), &st)
	if rec.Code != 200 || st.Step != "review" || len(st.Changes) != 2 || st.Changes[0].ID != "ev-email" || st.Changes[0].Answerable ||
		e.secure.lastCode != "123456" || e.secure.lastPW != "a new password" || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("reset: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/secure-account/undo", `{"event_id":"ev-phone"}`, secureCookie())
	decodeStrictJSON(t, rec.Body.Bytes(), &st)
	if rec.Code != 200 || e.secure.lastUndo != "ev-phone" || len(st.Undone) != 1 || st.Undone[0] != "ev-phone" {
		t.Errorf("undo: %d %s", rec.Code, rec.Body)
	}
	e.secure.errs["Undo"] = mamoru.Errorf(mamoru.ENotFound, "not listed")
	if rec := e.api("POST", "/api/v1/secure-account/undo", `{"event_id":"other"}`, secureCookie()); rec.Code != 404 || len(setCookies(rec)) != 0 {
		t.Errorf("undo unknown: %d %v", rec.Code, setCookies(rec))
	}
}

func TestAnswerAndRevertAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/events/answer", `{"token":"`+goodAnswerToken+`","answer":"yes"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"confirmed"}` || !e.activity.lastYes || setCookies(rec)[SecureCookie] != "" {
		t.Errorf("yes: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/events/answer", `{"token":"`+goodAnswerToken+`","answer":"no"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"secure_account","flow_id":"`+secureFlowID+`"}` || setCookies(rec)[SecureCookie] != wantSecureCookie {
		t.Errorf("no: %d %s", rec.Code, rec.Body)
	}
	for body, code := range map[string]string{
		`{"token":"used","answer":"no"}`:                          "invalid_code",
		`{"token":"","answer":"no"}`:                              "invalid_code",
		`{"token":"` + goodAnswerToken + `","answer":"maybe"}`:    "invalid_request",
		`{"token":"` + goodAnswerToken + `"}`:                     "invalid_request",
		`{"token":"` + goodAnswerToken + `","answer":true}`:       "invalid_json",
		`{"token":"` + goodAnswerToken + `","answer":"no","x":1}`: "invalid_json",
	} {
		rec := e.api("POST", "/api/v1/events/answer", body)
		if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != code {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
	rec = e.api("POST", "/api/v1/email/revert", `{"token":"`+goodRevertToken+`"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"secure_account","flow_id":"`+secureFlowID+`"}` || setCookies(rec)[SecureCookie] != wantSecureCookie {
		t.Errorf("revert: %d %s", rec.Code, rec.Body)
	}
	if rec := e.api("POST", "/api/v1/email/revert", `{"token":"used"}`); rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_code" {
		t.Errorf("revert bad: %d %s", rec.Code, rec.Body)
	}
	e.activity.errs["RevertEmail"] = mamoru.Errorf(mamoru.EConflict, "taken")
	if rec := e.api("POST", "/api/v1/email/revert", `{"token":"`+goodRevertToken+`"}`); rec.Code != 409 || setCookies(rec)[SecureCookie] != "" {
		t.Errorf("revert conflict: %d %s", rec.Code, rec.Body)
	}
}

func TestProfileAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("PATCH", "/api/v1/account", `{"language":"ja-JP","time_zone":"Asia/Tokyo"}`, sessionCookie())
	if rec.Code != 200 || rec.Body.String() != `{"id":"acct-1","email":"user@example.com","email_verified":true,"language":"ja","time_zone":"Asia/Tokyo","phone":null}` {
		t.Errorf("patch: %d %s", rec.Code, rec.Body)
	}
	if in := e.profile.lastSettings; in.Language == nil || *in.Language != mamoru.Japanese || in.TimeZone == nil || *in.TimeZone != "Asia/Tokyo" {
		t.Errorf("input %+v", in)
	}
	e.api("PATCH", "/api/v1/account", `{"time_zone":""}`, sessionCookie())
	if in := e.profile.lastSettings; in.Language != nil || in.TimeZone == nil || *in.TimeZone != "" {
		t.Errorf("zone only %+v", in)
	}
	e.api("PATCH", "/api/v1/account", `{}`, sessionCookie())
	if in := e.profile.lastSettings; in.Language != nil || in.TimeZone != nil {
		t.Errorf("nothing %+v", in)
	}
	e = newEnv(t, false)
	for body, code := range map[string]string{
		`{"time_zone":"Mars/Base"}`: "invalid_time_zone",
		`{"time_zone":"Local"}`:     "invalid_time_zone",
		`{"language":"fr"}`:         "invalid_language",
		`{"timezone":"UTC"}`:        "invalid_json",
	} {
		rec := e.api("PATCH", "/api/v1/account", body, sessionCookie())
		if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != code {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
	if e.profile.has("UpdateSettings") {
		t.Errorf("service called for bad input")
	}
	if rec := e.api("PATCH", "/api/v1/account", `{"language":"ja"}`); rec.Code != 401 {
		t.Errorf("anonymous patch: %d", rec.Code)
	}

	rec = e.api("POST", "/api/v1/account/email", `{"email":"new@example.net","password":"pw"}`, sessionCookie())
	if rec.Code != 202 || rec.Body.String() != `{"status":"code_sent"}` || e.profile.lastEmail != "new@example.net" || e.profile.lastPassword != "pw" {
		t.Errorf("email: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/account/email/confirm", `{"code":"123456"}`, sessionCookie())
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"email":"new@example.net"`) || e.profile.lastCode != "123456" {
		t.Errorf("email confirm: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/account/phone", `{"phone":"+819012345678","password":"pw"}`, sessionCookie())
	if rec.Code != 202 || rec.Body.String() != `{"status":"code_sent"}` || e.profile.lastPhone != "+819012345678" {
		t.Errorf("phone: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/account/phone/confirm", `{"code":"654321"}`, sessionCookie())
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"phone":"***5678"`) || strings.Contains(rec.Body.String(), "12345678") {
		t.Errorf("phone confirm: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/account/phone/remove", `{"password":"pw2"}`, sessionCookie())
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"phone":null`) || e.profile.lastPassword != "pw2" {
		t.Errorf("phone remove: %d %s", rec.Code, rec.Body)
	}
	e.profile.err = mamoru.Errorf(mamoru.EInvalidPhone, "bad")
	if rec := e.api("POST", "/api/v1/account/phone", `{"phone":"1","password":"pw"}`, sessionCookie()); rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_phone" {
		t.Errorf("invalid phone: %d %s", rec.Code, rec.Body)
	}
	// /me shows the masked number and the zone.
	a := e.sessions.accounts["acct-1"]
	a.Phone, a.TimeZone = "+819012345678", "Asia/Tokyo"
	rec = e.api("GET", "/api/v1/me", "", sessionCookie())
	if rec.Body.String() != `{"id":"acct-1","email":"user@example.com","email_verified":true,"language":"en","time_zone":"Asia/Tokyo","phone":"***5678"}` {
		t.Errorf("me: %s", rec.Body)
	}
}

func TestNewAPINeedsAuthentication(t *testing.T) {
	e := newEnv(t, false)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/account/logins", ""},
		{"GET", "/api/v1/account/events", ""},
		{"POST", "/api/v1/account/events/ev-email/confirm", "{}"},
		{"POST", "/api/v1/account/events/ev-email/deny", "{}"},
		{"PATCH", "/api/v1/account", `{"language":"ja"}`},
		{"POST", "/api/v1/account/email", `{"email":"a@example.com","password":"x"}`},
		{"POST", "/api/v1/account/email/confirm", `{"code":"1"}`},
		{"POST", "/api/v1/account/phone", `{"phone":"1","password":"x"}`},
		{"POST", "/api/v1/account/phone/confirm", `{"code":"1"}`},
		{"POST", "/api/v1/account/phone/remove", `{"password":"x"}`},
	} {
		rec := e.api(c.method, c.path, c.body)
		if rec.Code != 401 || decodeError(t, rec.Body.Bytes()).Code != "unauthorized" || setCookies(rec)[SecureCookie] != "" {
			t.Errorf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
		// A cross-site browser request is refused before anything runs.
		if c.method != "GET" {
			r := newJSONRequest(c.method, c.path, c.body, "application/json")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.AddCookie(sessionCookie())
			if rec := e.do(r); rec.Code != 403 {
				t.Errorf("%s %s cross-site: %d", c.method, c.path, rec.Code)
			}
		}
	}
	if len(e.activity.list())+len(e.profile.list()) != 0 {
		t.Errorf("services called: %v %v", e.activity.list(), e.profile.list())
	}
	// The secure-account endpoints and the links refuse cross-site requests too.
	for _, p := range []string{"/api/v1/secure-account/reset", "/api/v1/secure-account/undo", "/api/v1/events/answer", "/api/v1/email/revert"} {
		r := newJSONRequest("POST", p, `{}`, "application/json")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.AddCookie(secureCookie())
		if rec := e.do(r); rec.Code != 403 {
			t.Errorf("%s cross-site: %d", p, rec.Code)
		}
	}
	if len(e.secure.list())+len(e.activity.list()) != 0 {
		t.Errorf("services called cross-site")
	}
}
