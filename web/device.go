package web

import (
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
