package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// clientLanguage returns the language of a client that is not signed in:
// the language cookie set by the switch link, else the best supported
// language of Accept-Language, else English. A signed-in account's own
// language replaces it once the session is known (see loadSession and
// authAPI).
func clientLanguage(r *http.Request) mamoru.Language {
	if l, ok := mamoru.ParseLanguage(cookieValue(r, LanguageCookie)); ok {
		return l
	}
	if l, ok := acceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return mamoru.Languages[0]
}

// acceptLanguage picks the supported language with the highest weight in an
// Accept-Language header (RFC 9110 §12.5.4); ties keep header order, and a
// weight of 0 means "not acceptable".
func acceptLanguage(header string) (mamoru.Language, bool) {
	type choice struct {
		lang mamoru.Language
		q    float64
	}
	var choices []choice
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if l, ok := mamoru.ParseLanguage(strings.TrimSpace(tag)); ok && q > 0 {
			choices = append(choices, choice{l, q})
		}
	}
	if len(choices) == 0 {
		return "", false
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	return choices[0].lang, true
}

// pageLanguage handles the language switch link: GET /lang/{lang}?return_to=…
// remembers the choice in a cookie and goes back to the page. It changes
// only how pages are shown, so a GET is fine.
func (s *Server) pageLanguage(w http.ResponseWriter, r *http.Request) error {
	l, ok := mamoru.ParseLanguage(r.PathValue("lang"))
	if !ok {
		return mamoru.Errorf(mamoru.ENotFound, "unknown language")
	}
	setCookie(w, LanguageCookie, string(l), s.clock.Now().Add(languageCookieTTL))
	http.Redirect(w, r, localReturnTo(r.URL.Query().Get("return_to"), "/"), http.StatusSeeOther)
	return nil
}
