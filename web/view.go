package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/captcha"
)

//go:embed templates
var templateFiles embed.FS

// pageNames are the page templates; each is rendered inside layout.html.
var pageNames = []string{
	"error", "signup", "verify", "verify_link", "signin", "signin_code", "forgot", "reset",
	"account", "security", "outbox", "outbox_message",
	"activity", "events", "secure_account", "answer", "answer_done", "revert", "link_invalid",
	"settings", "email_change", "phone", "unlock", "approval",
	"twostep", "twostep_totp", "twostep_backup", "stepup",
}

// parsePages parses every page with the layout and the shared parts.
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Option("missingkey=zero").
			ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what a page template gets. Every word on a page comes from the
// catalog through T; the fields hold catalog IDs (Title, Notice) or data.
type view struct {
	s   *Server
	csp string // a Content-Security-Policy other than the default, or ""

	Lang        mamoru.Language
	Title       string // catalog ID of the page title
	CSRF        string // the form token
	Account     *mamoru.Account
	Notice      string            // catalog ID of a note at the top, or ""
	Error       string            // an error text (already translated), or ""
	Form        map[string]string // form values to show again, and page flags
	Data        any               // page-specific data
	Path        string            // the page's own GET URL, for the language switch
	PasswordMin int
	PasswordMax int
	// Captcha is the CAPTCHA widget the form must show; nil for none.
	Captcha *captcha.Widget
}

// notices maps the ?notice= values that pages accept to catalog IDs; other
// values are ignored, so a link cannot make a page say arbitrary things.
var notices = map[string]string{
	"verification_sent":      "web.notice.verification_sent",
	"verified":               "web.notice.verified",
	"signed_out":             "web.notice.signed_out",
	"signed_out_everywhere":  "web.notice.signed_out_everywhere",
	"reset_sent":             "web.notice.reset_sent",
	"password_reset":         "web.notice.password_reset",
	"unlocked":               "web.notice.unlocked",
	"password_changed":       "web.notice.password_changed",
	"session_revoked":        "web.notice.session_revoked",
	"event_confirmed":        "web.notice.event_confirmed",
	"event_already_answered": "web.notice.event_already_answered",
	"secure_password_set":    "web.notice.secure_password_set",
	"code_resent":            "web.notice.code_resent",
	"change_undone":          "web.notice.change_undone",
	"settings_saved":         "web.notice.settings_saved",
	"email_code_sent":        "web.notice.email_code_sent",
	"email_changed":          "web.notice.email_changed",
	"phone_code_sent":        "web.notice.phone_code_sent",
	"phone_changed":          "web.notice.phone_changed",
	"phone_removed":          "web.notice.phone_removed",

	// The 2-step settings page (pages_twostep.go).
	"two_step_app_added":         "web.two_step_settings.notice.app_added",
	"two_step_key_added":         "web.two_step_settings.notice.key_added",
	"two_step_passkey_added":     "web.two_step_settings.notice.passkey_added",
	"two_step_sms_added":         "web.two_step_settings.notice.sms_added",
	"two_step_removed":           "web.two_step_settings.notice.removed",
	"two_step_devices_forgotten": "web.two_step_settings.notice.devices_forgotten",
}

// newView starts the view of a page with the request's language, CSRF
// token, account and notice.
func (s *Server) newView(r *http.Request, title string) *view {
	st := state(r)
	v := &view{
		s:           s,
		Lang:        st.lang,
		Title:       title,
		CSRF:        st.csrf,
		Account:     st.account,
		Notice:      notices[r.URL.Query().Get("notice")],
		Form:        map[string]string{},
		Path:        r.URL.Path,
		PasswordMin: s.cfg.PasswordMin,
		PasswordMax: s.cfg.PasswordMax,
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		v.Path = r.URL.RequestURI()
	}
	return v
}

// T returns the catalog text id in the page's language; args are pairs of
// name and value for the text's template.
func (v *view) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			if k, ok := args[i].(string); ok {
				data[k] = args[i+1]
			}
		}
	}
	return v.s.cat.T(v.Lang, id, data)
}

// Time formats a time for people in the account's time zone (see
// displayZone), naming the zone.
func (v *view) Time(t time.Time) string {
	return formatTime(v.Lang, displayZone(v.Lang, v.Account), t)
}

// rowView is an event row with the page around it, for the shared
// templates of parts.html.
type rowView struct {
	*view
	Row  eventRow
	From string // "activity" or "events": where answer buttons come back to
}

// WithRow pairs row with the page, for {{template "event_meta" ($.WithRow .)}}.
func (v *view) WithRow(row eventRow, from string) rowView {
	return rowView{view: v, Row: row, From: from}
}

// LanguageName is the name of language l in the page's language.
func (v *view) LanguageName(l mamoru.Language) string {
	return v.T("web.lang." + string(l))
}

// langChoice is a language in the switch links or the language select.
type langChoice struct {
	Lang     mamoru.Language
	Name     string // the language's name in itself
	URL      string // the switch link
	Selected bool
}

// LangLinks are the links to the page in the other languages.
func (v *view) LangLinks() []langChoice {
	var out []langChoice
	for _, l := range mamoru.Languages {
		if l == v.Lang {
			continue
		}
		out = append(out, langChoice{
			Lang: l,
			Name: v.s.cat.T(l, "web.lang.self", nil),
			URL:  "/lang/" + string(l) + "?return_to=" + url.QueryEscape(v.Path),
		})
	}
	return out
}

// LanguageOptions are the choices of a language select, the one in
// Form["language"] (or the page's language) selected.
func (v *view) LanguageOptions() []langChoice {
	sel := mamoru.Language(v.Form["language"])
	if _, ok := mamoru.ParseLanguage(string(sel)); !ok {
		sel = v.Lang
	}
	var out []langChoice
	for _, l := range mamoru.Languages {
		out = append(out, langChoice{Lang: l, Name: v.s.cat.T(l, "web.lang.self", nil), Selected: l == sel})
	}
	return out
}

// render writes page name with v, with the given status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.ErrorContext(r.Context(), "template failed", slog.String("page", name), slog.Any("error", err))
		writePlain(w, http.StatusInternalServerError, s.errorText(v.Lang, mamoru.EInternal))
		return
	}
	setPageHeaders(w.Header())
	if v.csp != "" {
		w.Header().Set("Content-Security-Policy", v.csp)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// failPage renders err as an error page.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	code := errorCode(err)
	s.logError(r, code, err)
	v := s.newView(r, "web.error.title")
	v.Notice = ""
	v.Error = s.errorText(v.Lang, code)
	s.render(w, r, statusOf(code), "error", v)
}

// formError re-renders a form page after err, with the error's text and
// status.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, name string, v *view, err error) error {
	code := errorCode(err)
	if code == mamoru.EInternal || code == mamoru.EUnavailable {
		return err // not something the form can fix: the error page
	}
	v.Notice = ""
	v.Error = s.errorText(v.Lang, code)
	setRetryAfter(w, err)
	if code == mamoru.ECaptchaRequired {
		s.showCaptcha(r, v, true)
	}
	s.render(w, r, statusOf(code), name, v)
	return nil
}

// seeOther redirects after a successful POST (PRG).
func seeOther(w http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// withQuery returns path with the query parameters given as pairs.
func withQuery(path string, pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
