package web

import (
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
)

// commonTimeZones are offered in the time zone field's list; any other
// IANA name may be typed.
var commonTimeZones = []string{
	"Asia/Tokyo", "UTC", "Asia/Seoul", "Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong",
	"Asia/Singapore", "Asia/Bangkok", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland",
	"Pacific/Honolulu", "America/Los_Angeles", "America/Denver", "America/Chicago",
	"America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Paris", "Europe/Berlin",
}

// timeZoneName is an account's time zone for people: "UTC" for none.
func timeZoneName(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// parseTimeZone checks a time zone from a form or the API: "" stays ""
// (UTC), anything else must be an IANA name this server knows.
func parseTimeZone(tz string) (string, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return "", nil
	}
	if !display.ValidTimeZone(tz) {
		return "", mamoru.Errorf(mamoru.EInvalidTimeZone, "unknown time zone")
	}
	return tz, nil
}

// settingsData is the data of the settings page.
type settingsData struct {
	Zones []string
}

func (s *Server) settingsView(r *http.Request, acct *mamoru.Account) *view {
	v := s.newView(r, "web.settings.title")
	v.Path = "/account/settings"
	v.Form["language"] = string(acct.Language)
	v.Form["time_zone"] = timeZoneName(acct.TimeZone)
	v.Data = settingsData{Zones: commonTimeZones}
	return v
}

// pageSettings is GET /account/settings: language and time zone.
func (s *Server) pageSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	s.render(w, r, http.StatusOK, "settings", s.settingsView(r, st.account))
	return nil
}

// postSettings is POST /account/settings.
func (s *Server) postSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.settingsView(r, st.account)
	v.Form["language"] = r.PostForm.Get("language")
	v.Form["time_zone"] = r.PostForm.Get("time_zone")
	lang, ok := mamoru.ParseLanguage(r.PostForm.Get("language"))
	if !ok {
		return s.formError(w, r, "settings", v, mamoru.Errorf(mamoru.EInvalidLanguage, "bad language"))
	}
	tz, err := parseTimeZone(r.PostForm.Get("time_zone"))
	if err != nil {
		return s.formError(w, r, "settings", v, err)
	}
	if _, err := s.profile.UpdateSettings(r.Context(), st.session, mamoru.SettingsInput{Language: &lang, TimeZone: &tz}, s.request(r)); err != nil {
		return s.formError(w, r, "settings", v, err)
	}
	setCookie(w, LanguageCookie, string(lang), s.clock.Now().Add(languageCookieTTL))
	return seeOther(w, r, "/account/settings?notice=settings_saved")
}

// contactView is the email or phone page: the start form, or with
// ?step=code the code form.
func (s *Server) contactView(r *http.Request, title, path string) *view {
	v := s.newView(r, title)
	v.Path = path
	if r.URL.Query().Get("step") == "code" {
		v.Form["step"] = "code"
	}
	return v
}

// pageEmail is GET /account/email[?step=code].
func (s *Server) pageEmail(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	s.render(w, r, http.StatusOK, "email_change", s.contactView(r, "web.email_change.title", "/account/email"))
	return nil
}

// postEmail is POST /account/email: the new address and the password; a
// code goes to the new address.
func (s *Server) postEmail(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.contactView(r, "web.email_change.title", "/account/email")
	email := strings.TrimSpace(r.PostForm.Get("email"))
	v.Form["email"] = email
	if err := s.profile.StartEmailChange(r.Context(), st.session, email, r.PostForm.Get("password"), s.request(r)); err != nil {
		if stepUpNeeded(w, r, err, "/account/email") {
			return nil
		}
		return s.formError(w, r, "email_change", v, err)
	}
	return seeOther(w, r, "/account/email?step=code&notice=email_code_sent")
}

// postEmailConfirm is POST /account/email/confirm: the code from the new
// address.
func (s *Server) postEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.contactView(r, "web.email_change.title", "/account/email")
	v.Form["step"] = "code"
	if _, err := s.profile.ConfirmEmailChange(r.Context(), st.session, strings.TrimSpace(r.PostForm.Get("code")), s.request(r)); err != nil {
		return s.formError(w, r, "email_change", v, err)
	}
	return seeOther(w, r, "/account?notice=email_changed")
}

// phoneView is the phone page with the account's masked number.
func (s *Server) phoneView(r *http.Request, acct *mamoru.Account) *view {
	v := s.contactView(r, "web.phone.title", "/account/phone")
	if acct.Phone != "" {
		v.Form["current"] = maskPhone(acct.Phone)
	}
	return v
}

// pagePhone is GET /account/phone[?step=code].
func (s *Server) pagePhone(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	s.render(w, r, http.StatusOK, "phone", s.phoneView(r, st.account))
	return nil
}

// postPhone is POST /account/phone: the number and the password; a code
// is texted to the number.
func (s *Server) postPhone(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.phoneView(r, st.account)
	phone := strings.TrimSpace(r.PostForm.Get("phone"))
	v.Form["phone"] = phone
	if err := s.profile.StartPhoneChange(r.Context(), st.session, phone, r.PostForm.Get("password"), s.request(r)); err != nil {
		if stepUpNeeded(w, r, err, "/account/phone") {
			return nil
		}
		return s.formError(w, r, "phone", v, err)
	}
	return seeOther(w, r, "/account/phone?step=code&notice=phone_code_sent")
}

// postPhoneConfirm is POST /account/phone/confirm: the texted code.
func (s *Server) postPhoneConfirm(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.phoneView(r, st.account)
	v.Form["step"] = "code"
	if _, err := s.profile.ConfirmPhoneChange(r.Context(), st.session, strings.TrimSpace(r.PostForm.Get("code")), s.request(r)); err != nil {
		return s.formError(w, r, "phone", v, err)
	}
	return seeOther(w, r, "/account?notice=phone_changed")
}

// postPhoneRemove is POST /account/phone/remove: with the password.
func (s *Server) postPhoneRemove(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.phoneView(r, st.account)
	if _, err := s.profile.RemovePhone(r.Context(), st.session, r.PostForm.Get("password"), s.request(r)); err != nil {
		if stepUpNeeded(w, r, err, "/account/phone") {
			return nil
		}
		return s.formError(w, r, "phone", v, err)
	}
	return seeOther(w, r, "/account?notice=phone_removed")
}
