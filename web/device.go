package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
	"github.com/mamoru-id/mamoru/useragent"
)

// device returns the label of a session's device for people, in the same
// words as the activity pages and the emails: "Chrome 131 on Windows 10",
// "Windows 10 の Chrome 131", or "unknown device".
func (s *Server) device(lang mamoru.Language, userAgent string) string {
	return display.Device(s.cat, lang, useragent.Parse(userAgent))
}

// The device cookie names a browser across sign-ins, so that the risk
// engine can tell a known device from a new one. Its value is a random ID
// and an HMAC of it under Config.DeviceKey; a value whose MAC does not
// verify is ignored (treated as no cookie, never trusted) and replaced.

// deviceMAC is the MAC of a device ID.
func (s *Server) deviceMAC(id string) string {
	m := hmac.New(sha256.New, s.cfg.DeviceKey)
	m.Write([]byte("device\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// deviceID returns the ID of the browser's device cookie if its MAC
// verifies, else "".
func (s *Server) deviceID(r *http.Request) string {
	if len(s.cfg.DeviceKey) == 0 {
		return ""
	}
	v := cookieValue(r, DeviceCookie)
	id, mac, ok := strings.Cut(v, ".")
	if !ok || len(id) < 16 || len(id) > 64 || !hmac.Equal([]byte(mac), []byte(s.deviceMAC(id))) {
		return ""
	}
	return id
}

// signInRequest is the request of a sign-in step: the browser's device
// ID, or a new one when it has no valid device cookie. The new cookie is
// set by the returned function, which the handler calls before writing an
// answer that continues the sign-in (signed in, or a further step), so
// that a refused or failed attempt costs no MAC and sets no cookie — and
// so that only someone who knew an account's password holds a device
// cookie (attack mode spares known devices the CAPTCHA).
func (s *Server) signInRequest(r *http.Request) (mamoru.Request, func(http.ResponseWriter)) {
	req := s.request(r)
	if req.DeviceID != "" || len(s.cfg.DeviceKey) == 0 {
		return req, func(http.ResponseWriter) {}
	}
	req.DeviceID, req.NewDevice = mamoru.NewID(), true
	return req, func(w http.ResponseWriter) {
		setCookie(w, DeviceCookie, req.DeviceID+"."+s.deviceMAC(req.DeviceID), s.clock.Now().Add(deviceCookieTTL))
	}
}
