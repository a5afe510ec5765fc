package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// statusByCode is THE table from error codes to HTTP statuses. A code
// missing here is a bug: it renders as 500 (and a test checks every code of
// package mamoru is present).
var statusByCode = map[string]int{
	mamoru.EInvalidRequest:       http.StatusBadRequest,
	mamoru.EInvalidJSON:          http.StatusBadRequest,
	mamoru.EInvalidEmail:         http.StatusBadRequest,
	mamoru.EInvalidLanguage:      http.StatusBadRequest,
	mamoru.EInvalidTimeZone:      http.StatusBadRequest,
	mamoru.EInvalidPhone:         http.StatusBadRequest,
	mamoru.EPasswordTooShort:     http.StatusBadRequest,
	mamoru.EPasswordTooLong:      http.StatusBadRequest,
	mamoru.EPasswordCommon:       http.StatusBadRequest,
	mamoru.EPasswordIncorrect:    http.StatusBadRequest,
	mamoru.EInvalidCode:          http.StatusBadRequest,
	mamoru.EFlowExpired:          http.StatusBadRequest,
	mamoru.EUnauthorized:         http.StatusUnauthorized,
	mamoru.EForbidden:            http.StatusForbidden,
	mamoru.ENotFound:             http.StatusNotFound,
	mamoru.EMethodNotAllowed:     http.StatusMethodNotAllowed,
	mamoru.EConflict:             http.StatusConflict,
	mamoru.EPayloadTooLarge:      http.StatusRequestEntityTooLarge,
	mamoru.EUnsupportedMediaType: http.StatusUnsupportedMediaType,
	mamoru.ERateLimited:          http.StatusTooManyRequests,
	mamoru.ECaptchaRequired:      http.StatusTooManyRequests,
	mamoru.ELocked:               http.StatusUnauthorized,
	mamoru.EPasswordBreached:     http.StatusBadRequest,
	mamoru.EStepUpRequired:       http.StatusForbidden,
	mamoru.EUnavailable:          http.StatusServiceUnavailable,
	mamoru.EInternal:             http.StatusInternalServerError,
}

// errorCode returns the code to show for err: its mamoru code when the
// table knows it, EInternal otherwise.
func errorCode(err error) string {
	code := mamoru.ErrorCode(err)
	if _, ok := statusByCode[code]; !ok {
		return mamoru.EInternal
	}
	return code
}

// statusOf returns the HTTP status for an error code.
func statusOf(code string) int {
	if st, ok := statusByCode[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errorText returns the user-facing text of an error code in lang. The
// texts depend on nothing but the configuration, so each is rendered once
// (refusals under attack render thousands a second).
func (s *Server) errorText(lang mamoru.Language, code string) string {
	key := string(lang) + "\x00" + code
	if t, ok := s.errorTexts.Load(key); ok {
		return t.(string)
	}
	t := s.cat.T(lang, "error."+code, map[string]any{
		"Min": s.cfg.PasswordMin,
		"Max": s.cfg.PasswordMax,
	})
	s.errorTexts.Store(key, t)
	return t
}

// logError logs an internal error in full; other codes are expected
// outcomes and are not logged here (the access log has the status).
func (s *Server) logError(r *http.Request, code string, err error) {
	if code != mamoru.EInternal {
		return
	}
	s.log.ErrorContext(r.Context(), "request failed",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Any("error", err))
}

// errorBody is the JSON error envelope.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Captcha says which CAPTCHA to solve (captcha_required only).
	Captcha *captchaJSON `json:"captcha,omitempty"`
}

// fail renders err for the request: the JSON envelope under /api/, an error
// page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPIPath(r.URL.Path) {
		s.failJSON(w, r, err)
		return
	}
	s.failPage(w, r, err)
}

// failJSON writes the JSON error envelope for err.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	code := errorCode(err)
	s.logError(r, code, err)
	setRetryAfter(w, err)
	d := errorDetail{Code: code, Message: s.errorText(state(r).lang, code)}
	if code == mamoru.ECaptchaRequired {
		d.Captcha = s.captchaInfo()
	}
	writeJSON(w, statusOf(code), errorBody{Error: d})
}

// isAPIPath reports whether a path belongs to the JSON API.
func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// writeJSON writes v as JSON with the API headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types are marshalled; this cannot happen.
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	setAPIHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// setAPIHeaders sets the headers of every API response.
func setAPIHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// isMaxBytes reports whether err comes from http.MaxBytesReader.
func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
