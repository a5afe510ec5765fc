package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

func secureCookie() *http.Cookie { return &http.Cookie{Name: SecureCookie, Value: secureCookieValue()} }

// securePage requests a secure-account page in lang with the flow cookie
// (or without it).
func securePage(method, path string, vals url.Values, withFlow bool) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
	return func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		cookies := []*http.Cookie{langCookie(l)}
		if withFlow {
			cookies = append(cookies, secureCookie())
		}
		if method == http.MethodGet {
			return e.get(path, cookies...)
		}
		return e.form(path, vals, cookies...)
	}
}

func reviewStep(e *env) { e.secure.step = mamoru.SecureStepReview }

func secureFails(method, code string) func(e *env) {
	return func(e *env) { e.secure.errs[method] = mamoru.Errorf(code, "test") }
}

func profileFails(code string) func(e *env) {
	return func(e *env) { e.profile.err = mamoru.Errorf(code, "test") }
}

func withPhone(e *env) { e.sessions.accounts["acct-1"].Phone = "+819012345678" }

// activityPageCases are the pages of this issue, for
// TestEveryPageRendersInEveryLanguage.
func activityPageCases() []pageCase {
	answer := func(q string) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		return getPage("/events/answer?token="+goodAnswerToken+q, false)
	}
	return []pageCase{
		{"activity", false, nil, getPage("/account/activity", true), 200},
		{"activity older", false, nil, getPage("/account/activity?before=ev-in-1", true), 200},
		{"activity empty", false, func(e *env) { e.activity.logins = nil }, getPage("/account/activity", true), 200},
		{"events", false, nil, getPage("/account/events?notice=event_confirmed", true), 200},
		{"events answered", false, nil, getPage("/account/events?notice=event_already_answered", true), 200},
		{"events empty", false, func(e *env) { e.activity.events = nil }, getPage("/account/events", true), 200},
		{"events every type", false, func(e *env) {
			e.activity.events = nil
			for i, typ := range mamoru.EventTypes {
				e.activity.events = append(e.activity.events, &mamoru.Event{ID: fmt.Sprint("ev", i), Type: typ, Time: testNow})
			}
		}, getPage("/account/events", true), 200},
		{"secure reset", false, nil, securePage("GET", "/secure-account?notice=code_resent", nil, true), 200},
		{"secure review", false, reviewStep, securePage("GET", "/secure-account?notice=secure_password_set", nil, true), 200},
		{"secure undone", false, func(e *env) { reviewStep(e); e.secure.undone = []string{"ev-email"} },
			securePage("GET", "/secure-account?notice=change_undone", nil, true), 200},
		{"secure expired", false, nil, securePage("GET", "/secure-account", nil, false), 400},
		{"secure bad code", false, secureFails("ResetPassword", mamoru.EInvalidCode),
			securePage("POST", "/secure-account/reset", url.Values{"code": {"1"}, "password": {"x"}}, true), 400},
		{"secure weak password", false, secureFails("ResetPassword", mamoru.EPasswordCommon),
			securePage("POST", "/secure-account/reset", url.Values{"code": {"1"}, "password": {"x"}}, true), 400},
		{"secure resend limited", false, secureFails("ResendCode", mamoru.ERateLimited),
			securePage("POST", "/secure-account/resend", nil, true), 429},
		{"secure undo conflict", false, func(e *env) { reviewStep(e); secureFails("Undo", mamoru.EConflict)(e) },
			securePage("POST", "/secure-account/undo", url.Values{"event_id": {"ev-email"}}, true), 409},
		{"secure undo expired", false, nil, securePage("POST", "/secure-account/undo", url.Values{"event_id": {"ev-email"}}, false), 400},
		{"answer yes", false, nil, answer("&answer=yes"), 200},
		{"answer no", false, nil, answer("&answer=no"), 200},
		{"answer either", false, nil, answer(""), 200},
		{"answer invalid", false, nil, getPage("/events/answer?token=used&answer=no", false), 400},
		{"answer no token", false, nil, getPage("/events/answer", false), 400},
		{"answer post invalid", false, nil, postPage("/events/answer", url.Values{"token": {"used"}, "answer": {"no"}}, false), 400},
		{"answer done", false, nil, getPage("/events/answer/done", false), 200},
		{"answer done signed in", false, nil, getPage("/events/answer/done", true), 200},
		{"revert", false, nil, getPage("/email/revert?token="+goodRevertToken, false), 200},
		{"revert invalid", false, nil, postPage("/email/revert", url.Values{"token": {"used"}}, false), 400},
		{"revert conflict", false, func(e *env) { e.activity.errs["RevertEmail"] = mamoru.Errorf(mamoru.EConflict, "taken") },
			postPage("/email/revert", url.Values{"token": {goodRevertToken}}, false), 409},
		{"settings", false, nil, getPage("/account/settings?notice=settings_saved", true), 200},
		{"settings bad zone", false, nil, postPage("/account/settings", url.Values{"language": {"ja"}, "time_zone": {"Mars/Olympus"}}, true), 400},
		{"settings bad language", false, nil, postPage("/account/settings", url.Values{"language": {"fr"}, "time_zone": {"UTC"}}, true), 400},
		{"email", false, nil, getPage("/account/email", true), 200},
		{"email code", false, nil, getPage("/account/email?step=code&notice=email_code_sent", true), 200},
		{"email wrong password", false, profileFails(mamoru.EPasswordIncorrect), postPage("/account/email", url.Values{"email": {"b@example.net"}, "password": {"x"}}, true), 400},
		{"email bad code", false, profileFails(mamoru.EInvalidCode), postPage("/account/email/confirm", url.Values{"code": {"1"}}, true), 400},
		{"account changed email", false, nil, getPage("/account?notice=email_changed", true), 200},
		{"account with phone", false, withPhone, getPage("/account?notice=phone_changed", true), 200},
		{"account phone removed", false, nil, getPage("/account?notice=phone_removed", true), 200},
		{"phone", false, nil, getPage("/account/phone", true), 200},
		{"phone registered", false, withPhone, getPage("/account/phone", true), 200},
		{"phone code", false, nil, getPage("/account/phone?step=code&notice=phone_code_sent", true), 200},
		{"phone invalid", false, profileFails(mamoru.EInvalidPhone), postPage("/account/phone", url.Values{"phone": {"12"}, "password": {"x"}}, true), 400},
		{"phone bad code", false, profileFails(mamoru.EInvalidCode), postPage("/account/phone/confirm", url.Values{"code": {"1"}}, true), 400},
		{"phone remove wrong password", false, func(e *env) { withPhone(e); profileFails(mamoru.EPasswordIncorrect)(e) },
			postPage("/account/phone/remove", url.Values{"password": {"x"}}, true), 400},
	}
}

func TestActivityPageShowsTimesInTheAccountsZone(t *testing.T) {
	for _, c := range []struct {
		tz   string
		lang mamoru.Language
		want string
	}{
		{"America/New_York", mamoru.English, "1 March 2025 04:00 (EST)"},
		{"Asia/Tokyo", mamoru.Japanese, "2025年3月1日 18:00 (JST)"},
		{"Asia/Tokyo", mamoru.English, "1 March 2025 18:00 (JST)"},
		{"", mamoru.Japanese, "2025年3月1日 09:00 (UTC)"},
	} {
		e := newEnv(t, false)
		a := e.sessions.accounts["acct-1"]
		a.TimeZone, a.Language = c.tz, c.lang
		body := e.get("/account/activity", sessionCookie()).Body.String()
		if !strings.Contains(body, "<td>"+c.want+"</td>") {
			t.Errorf("%q/%s: no %q in\n%s", c.tz, c.lang, c.want, body)
		}
	}
	// The security page's times follow the zone too.
	e := newEnv(t, false)
	e.sessions.accounts["acct-1"].TimeZone = "Asia/Tokyo"
	if body := e.get("/account/security", sessionCookie()).Body.String(); !strings.Contains(body, "1 March 2025 18:30 (JST)") {
		t.Errorf("security page not in the account's zone:\n%s", body)
	}
}

func TestActivityPage(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/account/activity", sessionCookie()).Body.String()
	for _, want := range []string{
		"Safari 17 on iOS 17", "near Kyoto, Japan (approximate)", "203.0.113.5", "AS4713 NTT",
		">Succeeded<", ">Failed<", "Wrong email address or password", "unknown location",
		`action="/account/events/ev-in-1/deny"`, `action="/account/events/ev-in-1/confirm"`, `name="from" value="activity"`,
		"You answered: this wasn&#39;t you.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	// The failed attempt and the answered one have no buttons.
	if strings.Contains(body, "/account/events/ev-in-2/") || strings.Contains(body, "/account/events/ev-in-3/") {
		t.Errorf("buttons on a failed or answered sign-in")
	}
	if e.activity.lastPage != (mamoru.Page{Limit: pageSize + 1}) {
		t.Errorf("page %+v", e.activity.lastPage)
	}
}

func TestEventPaging(t *testing.T) {
	e := newEnv(t, false)
	e.activity.logins = nil
	for i := range 30 {
		e.activity.logins = append(e.activity.logins, &mamoru.Event{ID: fmt.Sprintf("ev%02d", i), Type: mamoru.EventSignInFailed,
			Time: testNow.Add(-time.Duration(i) * time.Minute), Outcome: string(mamoru.InvalidCredentials)})
	}
	body := e.get("/account/activity", sessionCookie()).Body.String()
	if !strings.Contains(body, `href="/account/activity?before=ev24"`) || strings.Contains(body, "ev25") || strings.Contains(body, "Newest") {
		t.Errorf("first page: %s", body)
	}
	body = e.get("/account/activity?before=ev24", sessionCookie()).Body.String()
	if e.activity.lastPage.Before != "ev24" || strings.Contains(body, "?before=") || !strings.Contains(body, `href="/account/activity">Newest<`) {
		t.Errorf("last page (%+v): %s", e.activity.lastPage, body)
	}
	if rec := e.get("/account/activity?before="+strings.Repeat("x", 65), sessionCookie()); rec.Code != 400 {
		t.Errorf("long before: %d", rec.Code)
	}
}

func TestEventsPage(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/account/events", sessionCookie()).Body.String()
	for _, want := range []string{
		"Email address changed from a***@example.com to b***@example.net",
		"Phone number changed from ***5678 to ***0123",
		"Password changed", "You answered: this was you.",
		"Signed out of a device", "“Sign out everywhere” was used.",
		"Account locked", "Done by our support team.",
		"Chrome 131 on Windows 10", "near Shinjuku, Tokyo, Japan (approximate)", "AS2516 KDDI Corporation", "198.51.100.7",
		`action="/account/events/ev-email/deny"`, `action="/account/events/ev-phone/confirm"`, "Was this you?",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("events page lacks %q", want)
		}
	}
	for _, notWanted := range []string{"alice@example.com", "bob@example.net", "12345678", "/account/events/ev-pw/", "/account/events/ev-locked/", "/account/events/ev-ended/", "investigation"} {
		if strings.Contains(body, notWanted) {
			t.Errorf("events page shows %q", notWanted)
		}
	}
}

func TestConfirmEventPage(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/account/events/ev-email/confirm", nil, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/events?notice=event_confirmed" || !e.activity.has("ConfirmEvent:ev-email") {
		t.Errorf("confirm: %d %v %v", rec.Code, rec.Header(), e.activity.list())
	}
	rec = e.form("/account/events/ev-in-1/confirm", url.Values{"from": {"activity"}}, sessionCookie())
	if rec.Header().Get("Location") != "/account/activity?notice=event_confirmed" {
		t.Errorf("from activity: %v", rec.Header())
	}
	e.activity.errs["ConfirmEvent:ev-pw"] = mamoru.Errorf(mamoru.EConflict, "answered")
	rec = e.form("/account/events/ev-pw/confirm", nil, sessionCookie())
	if rec.Header().Get("Location") != "/account/events?notice=event_already_answered" {
		t.Errorf("conflict: %v", rec.Header())
	}
	e.activity.errs["ConfirmEvent:nope"] = mamoru.Errorf(mamoru.ENotFound, "not yours")
	if rec := e.form("/account/events/nope/confirm", nil, sessionCookie()); rec.Code != 404 {
		t.Errorf("not found: %d", rec.Code)
	}
	if len(setCookies(rec)[SecureCookie]) != 0 {
		t.Errorf("confirm set a secure cookie")
	}
}

const wantSecureCookie = SecureCookie + "=" + secureFlowID + "." + secureSecret + "; Path=/; Expires=Sat, 01 Mar 2025 10:00:00 GMT; HttpOnly; Secure; SameSite=Lax"

func TestDenyEventPage(t *testing.T) {
	e := newEnv(t, false)
	e.sessions.accounts["acct-1"].Language = mamoru.Japanese
	rec := e.form("/account/events/ev-email/deny", nil, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/secure-account" || !e.activity.has("DenyEvent:ev-email") {
		t.Fatalf("deny: %d %v %v", rec.Code, rec.Header(), e.activity.list())
	}
	cs := setCookies(rec)
	if cs[SecureCookie] != wantSecureCookie {
		t.Errorf("secure cookie\n got %q\nwant %q", cs[SecureCookie], wantSecureCookie)
	}
	if cs[SessionCookie] != SessionCookie+"=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax" {
		t.Errorf("session cookie not cleared: %q", cs[SessionCookie])
	}
	if !strings.HasPrefix(cs[LanguageCookie], LanguageCookie+"=ja;") {
		t.Errorf("account language not kept: %q", cs[LanguageCookie])
	}
	// Answered already: back to the list, no flow.
	e.activity.errs["DenyEvent:ev-pw"] = mamoru.Errorf(mamoru.EConflict, "answered")
	rec = e.form("/account/events/ev-pw/deny", nil, sessionCookie())
	if rec.Header().Get("Location") != "/account/events?notice=event_already_answered" || setCookies(rec)[SecureCookie] != "" {
		t.Errorf("conflict: %v", rec.Header())
	}
}

func TestSecureAccountPages(t *testing.T) {
	e := newEnv(t, false)
	// Reset step.
	body := e.get("/secure-account", secureCookie()).Body.String()
	for _, want := range []string{"signed out every device", "u***@example.com", `action="/secure-account/reset"`, `name="code"`,
		`name="password" type="password" autocomplete="new-password"`, `action="/secure-account/resend"`} {
		if !strings.Contains(body, want) {
			t.Errorf("reset step lacks %q", want)
		}
	}
	if strings.Contains(body, "/secure-account/undo") {
		t.Errorf("undo on the reset step")
	}
	// Wrong code: the form again, with the message.
	e.secure.errs["ResetPassword"] = mamoru.Errorf(mamoru.EInvalidCode, "wrong")
	rec := e.form("/secure-account/reset", url.Values{"code": {" 123456 "}, "password": {"new password!"}}, secureCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), e.cat.T("en", "error.invalid_code", nil)) ||
		!strings.Contains(rec.Body.String(), `action="/secure-account/reset"`) || strings.Contains(rec.Body.String(), "new password!") {
		t.Errorf("wrong code: %d %s", rec.Code, rec.Body)
	}
	delete(e.secure.errs, "ResetPassword")
	rec = e.form("/secure-account/reset", url.Values{"code": {" 123456 "}, "password": {"new password!"}}, secureCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/secure-account?notice=secure_password_set" ||
		e.secure.lastCode != "123456" || e.secure.lastPW != "new password!" {
		t.Fatalf("reset: %d %v code %q pw %q", rec.Code, rec.Header(), e.secure.lastCode, e.secure.lastPW)
	}
	if setCookies(rec)[SessionCookie] != "" {
		t.Errorf("reset signed in: %v", setCookies(rec))
	}
	// Review step.
	body = e.get("/secure-account?notice=secure_password_set", secureCookie()).Body.String()
	for _, want := range []string{"Your new password is set.", "Email address changed from a***@example.com to b***@example.net",
		`name="event_id" value="ev-email"`, `name="event_id" value="ev-phone"`, `href="/signin"`, "Sign in again", "Chrome 131 on Windows 10"} {
		if !strings.Contains(body, want) {
			t.Errorf("review step lacks %q", want)
		}
	}
	// Undo posts the event ID.
	rec = e.form("/secure-account/undo", url.Values{"event_id": {"ev-email"}}, secureCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/secure-account?notice=change_undone" || e.secure.lastUndo != "ev-email" {
		t.Fatalf("undo: %d %v %q", rec.Code, rec.Header(), e.secure.lastUndo)
	}
	body = e.get("/secure-account", secureCookie()).Body.String()
	if strings.Contains(body, `name="event_id" value="ev-email"`) || !strings.Contains(body, ">Undone<") || !strings.Contains(body, `name="event_id" value="ev-phone"`) {
		t.Errorf("undone change not marked: %s", body)
	}
	// Cannot undo.
	e.secure.errs["Undo"] = mamoru.Errorf(mamoru.EConflict, "taken")
	rec = e.form("/secure-account/undo", url.Values{"event_id": {"ev-phone"}}, secureCookie())
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "can&#39;t be undone") {
		t.Errorf("undo conflict: %d %s", rec.Code, rec.Body)
	}
	// Resend.
	rec = e.form("/secure-account/resend", nil, secureCookie())
	if rec.Header().Get("Location") != "/secure-account?notice=code_resent" || !e.secure.has("ResendCode") {
		t.Errorf("resend: %v", rec.Header())
	}
}

func TestSecureAccountExpired(t *testing.T) {
	for name, c := range map[string]*http.Cookie{
		"none":      nil,
		"malformed": {Name: SecureCookie, Value: "no-dot"},
		"foreign":   {Name: SecureCookie, Value: secureFlowID + ".other-secret"},
	} {
		e := newEnv(t, false)
		var cookies []*http.Cookie
		if c != nil {
			cookies = append(cookies, c)
		}
		for _, rec := range []*httptest.ResponseRecorder{
			e.get("/secure-account", cookies...),
			e.form("/secure-account/reset", url.Values{"code": {"1"}, "password": {"x"}}, cookies...),
			e.form("/secure-account/undo", url.Values{"event_id": {"ev-email"}}, cookies...),
			e.form("/secure-account/resend", nil, cookies...),
		} {
			body := rec.Body.String()
			if rec.Code != 400 || !strings.Contains(body, "This page has expired") || !strings.Contains(body, `href="/signin"`) {
				t.Errorf("%s: %d %s", name, rec.Code, body)
			}
			if c != nil && !strings.Contains(setCookies(rec)[SecureCookie], "Max-Age=0") {
				t.Errorf("%s: cookie not dropped", name)
			}
		}
		if name != "foreign" && len(e.secure.list()) != 0 {
			t.Errorf("%s: service used without a flow: %v", name, e.secure.list())
		}
	}
}

func TestAnswerLinkNeverUsedOnGET(t *testing.T) {
	e := newEnv(t, false)
	for _, q := range []string{"&answer=yes", "&answer=no", ""} {
		rec := e.get("/events/answer?token=" + goodAnswerToken + q)
		body := rec.Body.String()
		if rec.Code != 200 || !e.activity.has("CheckAnswerLink") || e.activity.has("AnswerLink") {
			t.Fatalf("GET %s: %d %v", q, rec.Code, e.activity.list())
		}
		for _, want := range []string{`name="token" value="` + goodAnswerToken + `"`, "Signed in", "Safari 17 on iOS 17", "near Kyoto, Japan (approximate)", "203.0.113.5", "1 March 2025 09:00 (UTC)"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %q", q, want)
			}
		}
		yes, no := strings.Contains(body, `name="answer" value="yes"`), strings.Contains(body, `name="answer" value="no"`)
		if yes != (q != "&answer=no") || no != (q != "&answer=yes") {
			t.Errorf("GET %s: buttons yes=%v no=%v", q, yes, no)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", q, rec.Header())
		}
	}
	rec := e.get("/email/revert?token=" + goodRevertToken)
	if rec.Code != 200 || e.activity.has("RevertEmail") || !strings.Contains(rec.Body.String(), `name="token" value="`+goodRevertToken+`"`) ||
		rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("revert GET: %d %v", rec.Code, e.activity.list())
	}
	// HEAD is as safe as GET.
	req := httptest.NewRequest(http.MethodHead, "https://id.example.com/events/answer?token="+goodAnswerToken+"&answer=no", nil)
	e.do(req)
	if e.activity.has("AnswerLink") {
		t.Errorf("HEAD used the link")
	}
}

func TestAnswerLinkPOST(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/events/answer", url.Values{"token": {goodAnswerToken}, "answer": {"yes"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/events/answer/done" || !e.activity.lastYes || setCookies(rec)[SecureCookie] != "" {
		t.Errorf("yes: %d %v", rec.Code, rec.Header())
	}
	if body := e.get("/events/answer/done").Body.String(); !strings.Contains(body, "We have recorded that this was you.") {
		t.Errorf("done page: %s", body)
	}
	rec = e.form("/events/answer", url.Values{"token": {goodAnswerToken}, "answer": {"no"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/secure-account" || e.activity.lastYes || setCookies(rec)[SecureCookie] != wantSecureCookie {
		t.Errorf("no: %d %v", rec.Code, rec.Header())
	}
	if rec := e.form("/events/answer", url.Values{"token": {goodAnswerToken}, "answer": {"maybe"}}); rec.Code != 400 {
		t.Errorf("maybe: %d", rec.Code)
	}
	// Every bad link gets the same page.
	var bodies []string
	for _, tok := range []string{"used", "expired", ""} {
		rec := e.form("/events/answer", url.Values{"token": {tok}, "answer": {"no"}})
		bodies = append(bodies, rec.Body.String())
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "This link can&#39;t be used") || setCookies(rec)[SecureCookie] != "" {
			t.Errorf("bad link %q: %d", tok, rec.Code)
		}
	}
	get := e.get("/events/answer?token=used&answer=no")
	if get.Code != 400 || !strings.Contains(get.Body.String(), "This link can&#39;t be used") {
		t.Errorf("bad link GET: %d", get.Code)
	}
	// Revert.
	rec = e.form("/email/revert", url.Values{"token": {goodRevertToken}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/secure-account" || setCookies(rec)[SecureCookie] != wantSecureCookie || e.activity.lastToken != goodRevertToken {
		t.Errorf("revert: %d %v", rec.Code, rec.Header())
	}
	rec = e.form("/email/revert", url.Values{"token": {"used"}})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "This link can&#39;t be used") {
		t.Errorf("revert bad link: %d", rec.Code)
	}
}

func TestHostileEventDataIsEscaped(t *testing.T) {
	e := newEnv(t, false)
	evil := "<script>alert(1)</script>"
	hostile := &mamoru.Event{ID: `ev-"><script>`, AccountID: "acct-1", Type: mamoru.EventEmailChanged, Time: testNow,
		IP: "<b>ip</b>", UserAgent: evil,
		Place:   mamoru.Place{Country: "JP", City: evil, Region: evil, ASN: 1, Org: `<img src=x onerror=alert(1)>`},
		Device:  mamoru.Device{Browser: evil, OS: evil},
		Details: map[string]string{mamoru.DetailOldEmail: `a@<script>.example`, mamoru.DetailNewEmail: `"><script>alert(1)</script>@evil.example`}}
	login := *hostile
	login.Type, login.Outcome = mamoru.EventSignInSucceeded, evil
	e.activity.events = []*mamoru.Event{hostile}
	e.activity.logins = []*mamoru.Event{&login}
	pages := map[string]string{
		"events":   e.get("/account/events", sessionCookie()).Body.String(),
		"activity": e.get("/account/activity", sessionCookie()).Body.String(),
	}
	for name, body := range pages {
		if strings.Contains(body, "<script") || strings.Contains(body, "<img") || strings.Contains(body, "<b>ip") {
			t.Errorf("%s: unescaped: %s", name, body)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: hostile text not shown escaped", name)
		}
	}
	// The JSON API escapes for JSON.
	rec := e.api("GET", "/api/v1/account/events", "", sessionCookie())
	if strings.Contains(rec.Body.String(), "<script") || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("API: %s", rec.Body)
	}
}

func TestNewAccountPagesNeedSignIn(t *testing.T) {
	e := newEnv(t, false)
	for _, p := range []string{"/account/activity", "/account/events", "/account/settings", "/account/email", "/account/phone"} {
		rec := e.get(p)
		if rec.Code != 303 || rec.Header().Get("Location") != "/signin?return_to="+url.QueryEscape(p) {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	for _, p := range []string{"/account/events/ev-email/confirm", "/account/events/ev-email/deny", "/account/settings",
		"/account/email", "/account/email/confirm", "/account/phone", "/account/phone/confirm", "/account/phone/remove"} {
		rec := e.form(p, url.Values{"language": {"en"}, "password": {"x"}, "code": {"1"}, "email": {"a@example.com"}, "phone": {"+819012345678"}})
		if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?") || setCookies(rec)[SecureCookie] != "" {
			t.Errorf("POST %s: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	if n := len(e.activity.list()) + len(e.profile.list()); n != 0 {
		t.Errorf("services called: %v %v", e.activity.list(), e.profile.list())
	}
}

// TestCSRFOnEveryPagePOST sends every page form without its token.
func TestCSRFOnEveryPagePOST(t *testing.T) {
	for _, rt := range Routes() {
		if rt.Kind != KindPage || rt.Method != http.MethodPost {
			continue
		}
		e := newEnv(t, true)
		path := strings.ReplaceAll(rt.Path, "{id}", "ev-email")
		vals := url.Values{csrfField: {"x" + testCSRF[1:]}, "token": {goodAnswerToken}, "answer": {"no"}, "event_id": {"ev-email"},
			"code": {"1"}, "password": {"x"}, "language": {"ja"}, "email": {"a@example.com"}, "phone": {"+819012345678"}}
		rec := e.form(path, vals, sessionCookie(), secureCookie())
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d", rt.Pattern(), rec.Code)
		}
		if n := len(e.activity.list()) + len(e.secure.list()) + len(e.profile.list()) + len(e.accounts.list()); n != 0 {
			t.Errorf("%s: services called", rt.Pattern())
		}
		if c := setCookies(rec); c[SecureCookie] != "" || c[SessionCookie] != "" {
			t.Errorf("%s: cookies set %v", rt.Pattern(), c)
		}
	}
}

func TestSettingsPage(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/account/settings", sessionCookie()).Body.String()
	if !strings.Contains(body, `name="time_zone" type="text" list="time_zones"`) || !strings.Contains(body, `value="UTC">`) ||
		!strings.Contains(body, `<option value="Asia/Tokyo">`) || !strings.Contains(body, `<option value="en" lang="en" selected>`) {
		t.Errorf("settings page: %s", body)
	}
	rec := e.form("/account/settings", url.Values{"language": {"ja"}, "time_zone": {" Asia/Tokyo "}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/settings?notice=settings_saved" {
		t.Fatalf("save: %d %v", rec.Code, rec.Header())
	}
	in := e.profile.lastSettings
	if in.Language == nil || *in.Language != mamoru.Japanese || in.TimeZone == nil || *in.TimeZone != "Asia/Tokyo" {
		t.Errorf("input %+v", in)
	}
	if want := LanguageCookie + "=ja; Path=/; Expires=Sun, 01 Mar 2026 09:30:00 GMT; HttpOnly; Secure; SameSite=Lax"; setCookies(rec)[LanguageCookie] != want {
		t.Errorf("language cookie %q", setCookies(rec)[LanguageCookie])
	}
	// Empty means UTC.
	e.form("/account/settings", url.Values{"language": {"en"}, "time_zone": {""}}, sessionCookie())
	if in := e.profile.lastSettings; in.TimeZone == nil || *in.TimeZone != "" {
		t.Errorf("empty zone %+v", in)
	}
	// A bad zone is refused here, kept in the form, and the service not called.
	e = newEnv(t, false)
	rec = e.form("/account/settings", url.Values{"language": {"en"}, "time_zone": {"Asia/Nowhere"}}, sessionCookie())
	if rec.Code != 400 || e.profile.has("UpdateSettings") || !strings.Contains(rec.Body.String(), `value="Asia/Nowhere"`) ||
		!strings.Contains(rec.Body.String(), e.cat.T("en", "error.invalid_time_zone", nil)) || setCookies(rec)[LanguageCookie] != "" {
		t.Errorf("bad zone: %d %s", rec.Code, rec.Body)
	}
}

func TestEmailAndPhonePages(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/account/email", url.Values{"email": {" new@example.net "}, "password": {"pw"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/email?step=code&notice=email_code_sent" ||
		e.profile.lastEmail != "new@example.net" || e.profile.lastPassword != "pw" {
		t.Fatalf("start email: %d %v %+v", rec.Code, rec.Header(), e.profile)
	}
	body := e.get("/account/email?step=code&notice=email_code_sent", sessionCookie()).Body.String()
	if !strings.Contains(body, `action="/account/email/confirm"`) || strings.Contains(body, `action="/account/email"`) {
		t.Errorf("code step: %s", body)
	}
	rec = e.form("/account/email/confirm", url.Values{"code": {" 123456 "}}, sessionCookie())
	if rec.Header().Get("Location") != "/account?notice=email_changed" || e.profile.lastCode != "123456" {
		t.Errorf("confirm email: %v %q", rec.Header(), e.profile.lastCode)
	}
	// Errors keep the step.
	e.profile.err = mamoru.Errorf(mamoru.EInvalidCode, "x")
	body = e.form("/account/email/confirm", url.Values{"code": {"1"}}, sessionCookie()).Body.String()
	if !strings.Contains(body, `action="/account/email/confirm"`) {
		t.Errorf("code error lost the step")
	}
	e.profile.err = mamoru.Errorf(mamoru.EPasswordIncorrect, "x")
	body = e.form("/account/email", url.Values{"email": {"new@example.net"}, "password": {"secret-pw"}}, sessionCookie()).Body.String()
	if !strings.Contains(body, `value="new@example.net"`) || strings.Contains(body, "secret-pw") {
		t.Errorf("start error: %s", body)
	}
	e.profile.err = nil

	rec = e.form("/account/phone", url.Values{"phone": {" 090-1234-5678 "}, "password": {"pw"}}, sessionCookie())
	if rec.Header().Get("Location") != "/account/phone?step=code&notice=phone_code_sent" || e.profile.lastPhone != "090-1234-5678" {
		t.Errorf("start phone: %v %q", rec.Header(), e.profile.lastPhone)
	}
	rec = e.form("/account/phone/confirm", url.Values{"code": {"654321"}}, sessionCookie())
	if rec.Header().Get("Location") != "/account?notice=phone_changed" || e.profile.lastCode != "654321" {
		t.Errorf("confirm phone: %v", rec.Header())
	}
	withPhone(e)
	body = e.get("/account/phone", sessionCookie()).Body.String()
	if !strings.Contains(body, "***5678") || strings.Contains(body, "12345678") || !strings.Contains(body, `action="/account/phone/remove"`) {
		t.Errorf("phone page: %s", body)
	}
	rec = e.form("/account/phone/remove", url.Values{"password": {"pw2"}}, sessionCookie())
	if rec.Header().Get("Location") != "/account?notice=phone_removed" || !e.profile.has("RemovePhone") || e.profile.lastPassword != "pw2" {
		t.Errorf("remove phone: %v", rec.Header())
	}
	// The account page shows the masked number, the zone and the links.
	e.sessions.accounts["acct-1"].TimeZone = "Europe/Paris"
	body = e.get("/account", sessionCookie()).Body.String()
	for _, want := range []string{"***5678", "Europe/Paris", `href="/account/activity"`, `href="/account/events"`, `href="/account/settings"`, `href="/account/email"`, `href="/account/phone"`} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}
	if strings.Contains(body, "+8190") {
		t.Errorf("account page shows the whole number")
	}
}

func TestLinkTokensStayOutOfLogs(t *testing.T) {
	e := newEnv(t, false)
	const answerTok, revertTok = "SECRET-ANSWER-TOKEN", "SECRET-REVERT-TOKEN"
	e.get("/events/answer?token=" + answerTok + "&answer=no")
	e.form("/events/answer", url.Values{"token": {answerTok}, "answer": {"no"}})
	e.get("/email/revert?token=" + revertTok)
	e.form("/email/revert", url.Values{"token": {revertTok}})
	e.api("POST", "/api/v1/events/answer", `{"token":"`+answerTok+`","answer":"no"}`)
	e.api("POST", "/api/v1/email/revert", `{"token":"`+revertTok+`"}`)
	e.get("/lang/ja?return_to=" + url.QueryEscape("/events/answer?token="+answerTok))
	// Good links too, and an internal error while using one.
	e.form("/events/answer", url.Values{"token": {goodAnswerToken}, "answer": {"no"}})
	e.api("POST", "/api/v1/email/revert", `{"token":"`+goodRevertToken+`"}`)
	e.activity.errs["AnswerLink"] = fmt.Errorf("database exploded")
	e.form("/events/answer", url.Values{"token": {goodAnswerToken}, "answer": {"yes"}})
	e.form("/secure-account/reset", url.Values{"code": {"918273"}, "password": {"brand new pw"}}, secureCookie())
	e.api("GET", "/api/v1/secure-account", "", secureCookie())
	logs := e.logs.String()
	for _, secret := range []string{answerTok, revertTok, goodAnswerToken, goodRevertToken, secureSecret, "918273", "brand new pw"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "path=/events/answer") || !strings.Contains(logs, "database exploded") {
		t.Errorf("logs lack the requests:\n%s", logs)
	}
}

func TestJWKS(t *testing.T) {
	e := newEnv(t, false)
	if rec := e.get("/.well-known/jwks.json"); rec.Code != 404 {
		t.Errorf("without JWKS: %d", rec.Code)
	}
	base, _ := url.Parse("https://id.example.com")
	srv, err := NewServer(Deps{Accounts: e.accounts, SignIn: e.signIn, Sessions: e.sessions, Activity: e.activity,
		SecureAccount: e.secure, Profile: e.profile, Catalog: e.cat, Config: Config{BaseURL: base},
		JWKS: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jwk-set+json")
			w.Write([]byte(`{"keys":[]}`))
		})})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "https://id.example.com/.well-known/jwks.json", nil))
	if rec.Code != 200 || rec.Body.String() != `{"keys":[]}` || rec.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Errorf("JWKS: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestNewServerNeedsTheNewServices(t *testing.T) {
	e := newEnv(t, false)
	base, _ := url.Parse("https://id.example.com")
	full := Deps{Accounts: e.accounts, SignIn: e.signIn, Sessions: e.sessions, Activity: e.activity,
		SecureAccount: e.secure, Profile: e.profile, Catalog: e.cat, Config: Config{BaseURL: base}}
	for name, mutate := range map[string]func(d *Deps){
		"Activity":      func(d *Deps) { d.Activity = nil },
		"SecureAccount": func(d *Deps) { d.SecureAccount = nil },
		"Profile":       func(d *Deps) { d.Profile = nil },
	} {
		d := full
		mutate(&d)
		if _, err := NewServer(d); err == nil {
			t.Errorf("no error without %s", name)
		}
	}
}
