package web

import (
	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/useragent"
)

// device returns the label of a session's device for people, e.g. "Chrome
// 131 (Windows 10)" (product names only, the same in every language), or
// the catalog's "Unknown device".
func (s *Server) device(lang mamoru.Language, userAgent string) string {
	if label := useragent.Label(useragent.Parse(userAgent)); label != "" {
		return label
	}
	return s.cat.T(lang, "web.device.unknown", nil)
}
