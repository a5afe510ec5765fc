package web

import "github.com/mamoru-id/mamoru"

// device returns the label of a session's device for people, e.g. "Chrome
// 131 on Windows 10", or the catalog's "Unknown device".
func (s *Server) device(lang mamoru.Language, userAgent string) string {
	if label := deviceLabel(userAgent); label != "" {
		return label
	}
	return s.cat.T(lang, "web.device.unknown", nil)
}

// deviceLabel is the device label of a user agent, "" when unknown.
//
// TODO(useragent): package github.com/mamoru-id/mamoru/useragent is being
// written; when it lands, replace the body with
// `return useragent.Parse(userAgent).Label()`. Until then every device is
// "Unknown device".
func deviceLabel(userAgent string) string {
	_ = userAgent
	return ""
}
