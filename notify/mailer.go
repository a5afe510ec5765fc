// Package notify writes messages to the outbox and delivers them. A Mailer
// renders a message from its templates and the catalog, in the account's
// language, and enqueues it in the caller's transaction, so the message is
// committed together with the change that causes it. A Worker takes due
// messages from the outbox and hands them to a Sender, retrying with
// backoff. Links in messages are built from the configured base URL only,
// never from a request.
//
// It must not send anything itself outside a Sender, nor decide when a
// message is due for security reasons: callers decide what to say.
package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// The message templates. Each has templates/<id>.txt.tmpl and
// templates/<id>.html.tmpl, and its subject in the catalog as
// mail.<id>.subject.
const (
	TemplateVerifyEmail       = "verify_email"
	TemplateAccountExists     = "account_exists"
	TemplatePasswordReset     = "password_reset"
	TemplatePasswordResetDone = "password_reset_done"
	TemplatePasswordChanged   = "password_changed"
)

// Templates lists every template ID.
var Templates = []string{TemplateVerifyEmail, TemplateAccountExists, TemplatePasswordReset,
	TemplatePasswordResetDone, TemplatePasswordChanged}

// Mail is what a caller asks to send.
type Mail struct {
	AccountID string
	To        string
	Language  mamoru.Language
	Template  string
	// Data fills the template: Code, Link (a path under the base URL with
	// its query), Minutes, Time and so on, as each template needs.
	Data map[string]any
}

// Mailer renders and enqueues messages.
type Mailer struct {
	cat     *catalog.Catalog
	baseURL *url.URL
	clock   mamoru.Clock
	text    map[mamoru.Language]*texttemplate.Template
	html    map[mamoru.Language]*htmltemplate.Template
}

// NewMailer parses the templates once per language. baseURL is the public
// URL of the server: every link in a message is built on it.
func NewMailer(cat *catalog.Catalog, baseURL *url.URL, clock mamoru.Clock) (*Mailer, error) {
	m := &Mailer{cat: cat, baseURL: baseURL, clock: clock,
		text: map[mamoru.Language]*texttemplate.Template{}, html: map[mamoru.Language]*htmltemplate.Template{}}
	for _, lang := range mamoru.Languages {
		// {{t "id" $}} looks the text up in this language, filled with the
		// message's data.
		funcs := map[string]any{"t": func(id string, data map[string]any) string { return cat.T(lang, id, data) }, "dict": dict}
		var err error
		if m.text[lang], err = texttemplate.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.txt.tmpl"); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if m.html[lang], err = htmltemplate.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html.tmpl"); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
	}
	return m, nil
}

// Link returns the absolute URL of path (which may carry a query) under
// the base URL.
func (m *Mailer) Link(path string, query url.Values) string {
	u := *m.baseURL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	u.Fragment = ""
	return u.String()
}

// Render renders a mail into a message, without enqueuing it.
func (m *Mailer) Render(mail Mail) (*mamoru.Message, error) {
	lang, ok := mamoru.ParseLanguage(string(mail.Language))
	if !ok {
		lang = mamoru.English
	}
	data := map[string]any{"Email": mail.To, "BaseURL": m.baseURL.String()}
	for k, v := range mail.Data {
		data[k] = v
	}
	if t, ok := data["Time"].(time.Time); ok {
		data["Time"] = FormatTime(lang, t)
	}
	var text, html bytes.Buffer
	if err := m.text[lang].ExecuteTemplate(&text, mail.Template+".txt.tmpl", data); err != nil {
		return nil, fmt.Errorf("notify: render %s: %w", mail.Template, err)
	}
	if err := m.html[lang].ExecuteTemplate(&html, mail.Template+".html.tmpl", data); err != nil {
		return nil, fmt.Errorf("notify: render %s: %w", mail.Template, err)
	}
	now := m.clock.Now()
	return &mamoru.Message{
		ID:            mamoru.NewID(),
		AccountID:     mail.AccountID,
		Channel:       mamoru.ChannelEmail,
		To:            mail.To,
		Template:      mail.Template,
		Language:      lang,
		Subject:       m.cat.T(lang, "mail."+mail.Template+".subject", data),
		Text:          text.String(),
		HTML:          html.String(),
		CreatedAt:     now,
		NextAttemptAt: now,
	}, nil
}

// Enqueue renders mail and writes it to the outbox in tx.
func (m *Mailer) Enqueue(ctx context.Context, tx mamoru.Tx, mail Mail) error {
	msg, err := m.Render(mail)
	if err != nil {
		return err
	}
	return tx.EnqueueMessage(ctx, msg)
}

// FormatTime writes t for a reader of lang, in UTC with the zone named
// (per-account time zones come with the notifications work).
func FormatTime(lang mamoru.Language, t time.Time) string {
	t = t.UTC()
	if lang == mamoru.Japanese {
		return t.Format("2006年1月2日 15:04 (UTC)")
	}
	return t.Format("2 January 2006 15:04 (UTC)")
}

// dict builds a map for passing several values to a sub-template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
