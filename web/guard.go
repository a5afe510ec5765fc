package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/captcha"
	"github.com/mamoru-id/mamoru/clientip"
)

// Guard is what pages and the API need of the attack-protection
// checkpoint (package guard) besides the checks the services run.
type Guard interface {
	// Level is the CAPTCHA level a sign-in from r needs now (0: none).
	Level(ctx context.Context, r mamoru.Request) (captcha.Level, error)
	// Challenge issues a proof-of-work challenge for r's level.
	Challenge(ctx context.Context, r mamoru.Request) (*captcha.Challenge, error)
	// Widget describes the CAPTCHA for pages; nil when none.
	Widget() *captcha.Widget
}

// UnlockService ends a lock with the link of the lock notification.
type UnlockService interface {
	CheckUnlockLink(ctx context.Context, link string) error
	Unlock(ctx context.Context, link string, r mamoru.Request) error
}

// captchaJSON tells an API client which CAPTCHA to solve.
type captchaJSON struct {
	Type         string `json:"type"`                    // altcha, turnstile or hcaptcha
	ChallengeURL string `json:"challenge_url,omitempty"` // altcha: GET it for a challenge
	Field        string `json:"field"`                   // the form field (pages); the API takes "captcha"
	SiteKey      string `json:"site_key,omitempty"`
}

// captchaInfo describes the configured CAPTCHA; nil when none.
func (s *Server) captchaInfo() *captchaJSON {
	if s.guard == nil {
		return nil
	}
	w := s.guard.Widget()
	if w == nil {
		return nil
	}
	return &captchaJSON{Type: w.Kind, ChallengeURL: w.ChallengeURL, Field: w.FieldName, SiteKey: w.SiteKey}
}

// setRetryAfter sets Retry-After from err when it says how long to wait.
func setRetryAfter(w http.ResponseWriter, err error) {
	if d := mamoru.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// apiCaptchaChallenge is GET /api/v1/captcha/challenge: a proof-of-work
// challenge (ALTCHA format) for the caller's current level.
func (s *Server) apiCaptchaChallenge(w http.ResponseWriter, r *http.Request) error {
	if s.guard == nil {
		return mamoru.Errorf(mamoru.ENotFound, "no CAPTCHA is configured")
	}
	ch, err := s.guard.Challenge(r.Context(), s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

// captchaAnswer reads the CAPTCHA answer of a page's form, whichever
// widget made it.
func (s *Server) captchaAnswer(r *http.Request) string {
	if i := s.captchaInfo(); i != nil {
		return r.PostForm.Get(i.Field)
	}
	return ""
}

// showCaptcha puts the widget on a page when the caller needs one now
// (or force, after a captcha_required answer).
func (s *Server) showCaptcha(r *http.Request, v *view, force bool) {
	i := s.captchaInfo()
	if i == nil {
		return
	}
	if !force {
		lv, err := s.guard.Level(r.Context(), s.request(r))
		if err != nil || lv == 0 {
			return
		}
	}
	v.Captcha = s.guard.Widget()
}

// pageUnlock is GET /account/unlock?token=: only a button, since mail
// scanners open links.
func (s *Server) pageUnlock(w http.ResponseWriter, r *http.Request) error {
	if s.unlock == nil {
		return mamoru.Errorf(mamoru.ENotFound, "unlocking is not available")
	}
	token := r.URL.Query().Get("token")
	if err := s.unlock.CheckUnlockLink(r.Context(), token); err != nil {
		if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
			return s.linkInvalid(w, r)
		}
		return err
	}
	v := s.newView(r, "web.unlock.title")
	v.Form["token"] = token
	s.render(w, r, http.StatusOK, "unlock", v)
	return nil
}

// postUnlock is POST /account/unlock: it ends the lock.
func (s *Server) postUnlock(w http.ResponseWriter, r *http.Request) error {
	if s.unlock == nil {
		return mamoru.Errorf(mamoru.ENotFound, "unlocking is not available")
	}
	err := s.unlock.Unlock(r.Context(), r.PostForm.Get("token"), s.request(r))
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		return s.linkInvalid(w, r)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, withQuery("/signin", "notice", "unlocked"))
}

// metrics is GET /metrics: Prometheus metrics, for the networks of
// Config.MetricsAllow only (loopback when empty); others get 404.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.metricsHandler == nil || !s.metricsAllowed(r) {
		return mamoru.Errorf(mamoru.ENotFound, "not found")
	}
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}

func (s *Server) metricsAllowed(r *http.Request) bool {
	ip := clientip.Peer(r.RemoteAddr)
	if !ip.IsValid() {
		return false
	}
	if len(s.cfg.MetricsAllow) == 0 {
		return ip.IsLoopback()
	}
	for _, p := range s.cfg.MetricsAllow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
