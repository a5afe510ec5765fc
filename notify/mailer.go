// Package notify writes messages to the outbox and delivers them. A Mailer
// renders a message from its templates and the catalog, in the account's
// language, and enqueues it in the caller's transaction, so the message is
// committed together with the change that causes it. Times, places and
// devices in a message are written in the account's language and time
// zone (package display). A Worker takes due messages from the outbox and
// hands them to a Sender, retrying with backoff. Links in messages are
// built from the configured base URL only, never from a request.
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
	"reflect"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
	"github.com/mamoru-id/mamoru/display"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// DefaultProductName names the service in messages unless WithProductName
// says otherwise.
const DefaultProductName = "mamoru"

// The message templates. An email template has templates/<id>.txt.tmpl and
// templates/<id>.html.tmpl and its subject in the catalog as
// mail.<id>.subject; an SMS template has templates/<id>.sms.tmpl (plain
// text, short, no subject, no link). The comment of each constant lists the
// Data keys it reads. Every template may also read what Render sets itself:
// Email (Mail.To), BaseURL and Product.
//
// Render turns four typed values into text in the account's language and
// time zone, so callers pass the values, never text:
//   - Time (time.Time) becomes the formatted time (display.Time);
//   - Place (mamoru.Place) becomes PlaceText (display.PlaceApprox, "near …
//     (approximate)" or "unknown location"), Network (display.Network,
//     only when known) and PlaceKnown;
//   - Device (mamoru.Device) becomes DeviceText (display.Device);
//   - Method (a 2-step method key, TwoStepTOTP …, as a string or any
//     string type such as mamoru.CredentialKind; "backup_code" is read as
//     TwoStepBackupCodes) becomes MethodText, the method's name
//     (mail.two_step.method.<key>); an unknown key gets no MethodText and
//     the message then names no method.
//
// Of Time, DeviceText, PlaceText, IP and Network ("the details") each line
// is shown only when its key is present. *Link keys are absolute URLs the
// caller built with Mailer.Link; keys ending in Masked expect a value the
// caller has masked already (emailaddr.Mask for addresses).
const (
	// TemplateVerifyEmail (email): Code, Minutes, Link.
	TemplateVerifyEmail = "verify_email"
	// TemplateAccountExists (email): SignInLink, ForgotLink.
	TemplateAccountExists = "account_exists"
	// TemplatePasswordReset (email): Code, Minutes, Link.
	TemplatePasswordReset = "password_reset"
	// TemplatePasswordResetDone (email): the details (Time, Device, Place,
	// IP), NoLink (optional: "this wasn't me" → secure account), ForgotLink
	// (optional: reset the password).
	TemplatePasswordResetDone = "password_reset_done"
	// TemplatePasswordChanged (email): the details (Time, Device, Place,
	// IP), NoLink (optional), ForgotLink (optional).
	TemplatePasswordChanged = "password_changed"
	// TemplateNewSignIn (email): the details (Time, Device, Place, IP;
	// Network comes from Place), YesLink ("yes, this was me"), NoLink ("no,
	// secure my account"), HistoryLink (optional: the login history page).
	TemplateNewSignIn = "new_sign_in"
	// TemplateEmailChangeCode (email, to the NEW address): Code, Minutes.
	TemplateEmailChangeCode = "email_change_code"
	// TemplateEmailChanged (email, to the OLD address): OldEmail,
	// NewEmailMasked, the details (Time, Device, Place, IP), RevertLink,
	// Days (how long RevertLink works).
	TemplateEmailChanged = "email_changed"
	// TemplatePhoneCode (SMS only): Code, Minutes, Purpose (optional:
	// PhoneCodeVerifyPhone, the default, PhoneCodeSignIn or
	// PhoneCodeConfirm).
	TemplatePhoneCode = "phone_code"
	// TemplatePhoneChanged: by email to the account: NewPhoneMasked
	// (empty when the number was removed), OldPhoneMasked (optional), the
	// details (Time, Device, Place, IP), NoLink. By SMS to the OLD number:
	// no keys, and no link.
	TemplatePhoneChanged = "phone_changed"
	// TemplateAccountLocked (email): Time (optional), Reason (optional,
	// shown as given), SupportText (optional: how to reach support, shown
	// as text). It has no link.
	TemplateAccountLocked = "account_locked"
	// TemplateAccountRestricted (email): Time (optional), Reason
	// (optional), SupportText (optional). It has no link.
	TemplateAccountRestricted = "account_restricted"
	// TemplateAccountUnlocked (email): Time (optional). It has no link.
	TemplateAccountUnlocked = "account_unlocked"
	// TemplatePasswordResetRequired (email): Code, Minutes, Link (the reset
	// link).
	TemplatePasswordResetRequired = "password_reset_required"
	// TemplateSecureAccount (email): Code, Minutes.
	TemplateSecureAccount = "secure_account"
	// TemplateSignInCode (email): Code, Minutes, and the details of the
	// attempt the risk engine stopped (Time, Device, Place, IP).
	TemplateSignInCode = "signin_code"
	// TemplateSignInLocked (email): Until (the lock's end), Link (ends the
	// lock), Minutes (the link's validity), and the details of the attempt
	// that locked it (Time, Device, Place, IP).
	TemplateSignInLocked = "signin_locked"
	// TemplateSignInApproval (email): ApproveLink, DenyLink, Minutes, and
	// the details of the attempt (Time, Device, Place, IP) — seed 004's
	// "Security alert: sign-in attempt detected".
	TemplateSignInApproval = "signin_approval"
	// TemplateTwoStepAdded (email): a 2-step method was added to the
	// account. The details of the change (Time, Device, Place, IP), Method
	// (TwoStepTOTP …), Name (optional: the owner's label of the method,
	// shown as given), NoLink ("this wasn't me" → secure account),
	// Regenerated (optional bool: new backup codes replaced the old ones;
	// send this template with Method TwoStepBackupCodes and Regenerated
	// true when the owner makes new backup codes).
	TemplateTwoStepAdded = "two_step_added"
	// TemplateTwoStepRemoved (email): a 2-step method was removed from the
	// account. The details (Time, Device, Place, IP), Method, Name
	// (optional), NoLink.
	TemplateTwoStepRemoved = "two_step_removed"
	// TemplateTwoStepCodeReplayed (email): a 2-step code that had already
	// been used was entered again, and refused. The details of the attempt
	// (Time, Device, Place, IP), Method (TwoStepTOTP or
	// TwoStepBackupCodes; another names no method), NoLink.
	TemplateTwoStepCodeReplayed = "two_step_code_replayed"
)

// The 2-step methods a two_step_* message names (Data["Method"]).
const (
	TwoStepTOTP        = "totp"         // an authenticator app
	TwoStepWebAuthn    = "webauthn"     // a security key
	TwoStepPasskey     = "passkey"      // a passkey
	TwoStepBackupCodes = "backup_codes" // backup codes
	TwoStepSMS         = "sms"          // codes by text message
)

// The purposes of a phone_code SMS (Data["Purpose"]).
const (
	PhoneCodeVerifyPhone = "verify_phone" // confirm this number for the account (the default)
	PhoneCodeSignIn      = "sign_in"      // 2-step verification at sign-in
	PhoneCodeConfirm     = "confirm"      // confirm a change to the account's settings
)

// Templates lists every template ID, whatever its channels.
var Templates = []string{TemplateVerifyEmail, TemplateAccountExists, TemplatePasswordReset,
	TemplatePasswordResetDone, TemplatePasswordChanged, TemplateNewSignIn, TemplateEmailChangeCode,
	TemplateEmailChanged, TemplatePhoneCode, TemplatePhoneChanged, TemplateAccountLocked,
	TemplateAccountRestricted, TemplateAccountUnlocked, TemplatePasswordResetRequired,
	TemplateSecureAccount, TemplateSignInCode, TemplateSignInLocked, TemplateSignInApproval,
	TemplateTwoStepAdded, TemplateTwoStepRemoved, TemplateTwoStepCodeReplayed}

// SMSTemplates lists the templates that have an SMS variant.
var SMSTemplates = []string{TemplatePhoneCode, TemplatePhoneChanged}

// Mail is what a caller asks to send.
type Mail struct {
	AccountID string
	// To is the email address, or for ChannelSMS the phone number (E.164).
	To string
	// Language and TimeZone are the account's (never the requester's):
	// TimeZone is an IANA name, "" for UTC.
	Language mamoru.Language
	TimeZone string
	// Channel is mamoru.ChannelEmail ("" means email) or
	// mamoru.ChannelSMS.
	Channel  mamoru.Channel
	Template string
	// Data fills the template: the keys each template reads are listed
	// with its constant.
	Data map[string]any
}

// Mailer renders and enqueues messages.
type Mailer struct {
	cat     *catalog.Catalog
	baseURL *url.URL
	clock   mamoru.Clock
	product string
	text    map[mamoru.Language]*texttemplate.Template
	html    map[mamoru.Language]*htmltemplate.Template
	sms     map[mamoru.Language]*texttemplate.Template
}

// MailerOption configures a Mailer.
type MailerOption func(*Mailer)

// WithProductName names the service in messages (the header of emails,
// the start of texts) instead of DefaultProductName.
func WithProductName(name string) MailerOption {
	return func(m *Mailer) {
		if name = strings.TrimSpace(name); name != "" {
			m.product = name
		}
	}
}

// NewMailer parses the templates once per language. baseURL is the public
// URL of the server: every link in a message is built on it.
func NewMailer(cat *catalog.Catalog, baseURL *url.URL, clock mamoru.Clock, opts ...MailerOption) (*Mailer, error) {
	m := &Mailer{cat: cat, baseURL: baseURL, clock: clock, product: DefaultProductName,
		text: map[mamoru.Language]*texttemplate.Template{}, html: map[mamoru.Language]*htmltemplate.Template{},
		sms: map[mamoru.Language]*texttemplate.Template{}}
	for _, o := range opts {
		o(m)
	}
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
		if m.sms[lang], err = texttemplate.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.sms.tmpl"); err != nil {
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

// HasChannel reports whether template id can be sent on ch ("" is email).
func (m *Mailer) HasChannel(id string, ch mamoru.Channel) bool {
	switch ch {
	case "", mamoru.ChannelEmail:
		return m.text[mamoru.English].Lookup(id+".txt.tmpl") != nil && m.html[mamoru.English].Lookup(id+".html.tmpl") != nil
	case mamoru.ChannelSMS:
		return m.sms[mamoru.English].Lookup(id+".sms.tmpl") != nil
	}
	return false
}

// Render renders a mail into a message, without enqueuing it. It writes
// times, places and devices in the mail's language and time zone, and in
// no other.
func (m *Mailer) Render(mail Mail) (*mamoru.Message, error) {
	lang, ok := mamoru.ParseLanguage(string(mail.Language))
	if !ok {
		lang = mamoru.English
	}
	channel := mail.Channel
	if channel == "" {
		channel = mamoru.ChannelEmail
	}
	if channel != mamoru.ChannelEmail && channel != mamoru.ChannelSMS {
		return nil, fmt.Errorf("notify: render %s: channel %q has no templates", mail.Template, channel)
	}
	if !m.HasChannel(mail.Template, channel) {
		return nil, fmt.Errorf("notify: render %s: no %s template", mail.Template, channel)
	}
	data := map[string]any{"Email": mail.To}
	for k, v := range mail.Data {
		data[k] = v
	}
	// Set last: data cannot replace where links lead or whom we speak for.
	data["BaseURL"] = m.baseURL.String()
	data["Product"] = m.product
	m.formatDetails(lang, mail.TimeZone, data)
	m.formatMethod(lang, data)

	now := m.clock.Now()
	msg := &mamoru.Message{
		ID:            mamoru.NewID(),
		AccountID:     mail.AccountID,
		Channel:       channel,
		To:            mail.To,
		Template:      mail.Template,
		Language:      lang,
		CreatedAt:     now,
		NextAttemptAt: now,
	}
	if channel == mamoru.ChannelSMS {
		var text bytes.Buffer
		if err := m.sms[lang].ExecuteTemplate(&text, mail.Template+".sms.tmpl", data); err != nil {
			return nil, fmt.Errorf("notify: render %s: %w", mail.Template, err)
		}
		msg.Text = strings.TrimSpace(text.String())
		return msg, nil
	}
	var text, html bytes.Buffer
	if err := m.text[lang].ExecuteTemplate(&text, mail.Template+".txt.tmpl", data); err != nil {
		return nil, fmt.Errorf("notify: render %s: %w", mail.Template, err)
	}
	if err := m.html[lang].ExecuteTemplate(&html, mail.Template+".html.tmpl", data); err != nil {
		return nil, fmt.Errorf("notify: render %s: %w", mail.Template, err)
	}
	msg.Subject = m.cat.T(lang, "mail."+mail.Template+".subject", data)
	msg.Text = text.String()
	msg.HTML = html.String()
	return msg, nil
}

// formatDetails replaces the typed values of data by text for a reader of
// lang in the time zone tz: Time, and Place and Device into PlaceText,
// PlaceKnown, Network and DeviceText.
func (m *Mailer) formatDetails(lang mamoru.Language, tz string, data map[string]any) {
	if u, ok := data["Until"].(time.Time); ok && !u.IsZero() {
		data["UntilText"] = display.Time(lang, tz, u)
	}
	switch t := data["Time"].(type) {
	case time.Time:
		if t.IsZero() {
			delete(data, "Time")
		} else {
			data["Time"] = display.Time(lang, tz, t)
		}
	case *time.Time:
		if t == nil || t.IsZero() {
			delete(data, "Time")
		} else {
			data["Time"] = display.Time(lang, tz, *t)
		}
	}
	var place *mamoru.Place
	switch p := data["Place"].(type) {
	case mamoru.Place:
		place = &p
	case *mamoru.Place:
		place = p
	}
	if place != nil {
		data["PlaceText"] = display.PlaceApprox(m.cat, lang, *place)
		data["PlaceKnown"] = place.Country != ""
		if n := display.Network(*place); n != "" {
			data["Network"] = n
		}
	}
	var device *mamoru.Device
	switch d := data["Device"].(type) {
	case mamoru.Device:
		device = &d
	case *mamoru.Device:
		device = d
	}
	if device != nil {
		data["DeviceText"] = display.Device(m.cat, lang, *device)
	}
}

// formatMethod replaces a 2-step method key of any string type in data by
// a plain string, so templates can compare it, and adds MethodText, its
// name in lang, when the catalog knows the key.
func (m *Mailer) formatMethod(lang mamoru.Language, data map[string]any) {
	v := reflect.ValueOf(data["Method"])
	if !v.IsValid() || v.Kind() != reflect.String {
		return
	}
	key := v.String()
	if key == "backup_code" { // mamoru.MethodBackupCode, one code of the set
		key = TwoStepBackupCodes
	}
	data["Method"] = key
	if id := "mail.two_step.method." + key; key != "" && m.cat.Has(lang, id) {
		data["MethodText"] = m.cat.T(lang, id, nil)
	}
}

// Enqueue renders mail and writes it to the outbox in tx.
func (m *Mailer) Enqueue(ctx context.Context, tx mamoru.Tx, mail Mail) error {
	msg, err := m.Render(mail)
	if err != nil {
		return err
	}
	return tx.EnqueueMessage(ctx, msg)
}

// dict builds a map for passing several values to a sub-template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
