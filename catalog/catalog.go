// Package catalog is the message catalog: every user-facing text of mamoru,
// in Japanese and English, under a stable ID. Pages, emails and API error
// messages all take their words from here; nothing user-facing is written
// in Go code.
//
// The texts live in locales/<area>.<lang>.toml (go-i18n format), one file per
// area (web, mail, error) and language, embedded in the binary. Every ID must
// exist in every language; a test checks it.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/mamoru-id/mamoru"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var files embed.FS

// Catalog looks up texts by language and ID.
type Catalog struct {
	localizers map[mamoru.Language]*i18n.Localizer
	ids        map[mamoru.Language]map[string]bool
}

// New loads the embedded catalog.
func New() (*Catalog, error) {
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{
		localizers: map[mamoru.Language]*i18n.Localizer{},
		ids:        map[mamoru.Language]map[string]bool{},
	}
	names, err := fs.Glob(files, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		// locales/web.ja.toml: go-i18n takes the language from the part
		// before the extension.
		parts := strings.Split(path.Base(name), ".")
		if len(parts) != 3 {
			return nil, fmt.Errorf("catalog: bad file name %s", name)
		}
		lang, ok := mamoru.ParseLanguage(parts[1])
		if !ok {
			return nil, fmt.Errorf("catalog: unknown language in %s", name)
		}
		mf, err := bundle.LoadMessageFileFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", name, err)
		}
		if c.ids[lang] == nil {
			c.ids[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			if c.ids[lang][m.ID] {
				return nil, fmt.Errorf("catalog: %s: duplicate ID %s", name, m.ID)
			}
			c.ids[lang][m.ID] = true
		}
	}
	for _, lang := range mamoru.Languages {
		c.localizers[lang] = i18n.NewLocalizer(bundle, string(lang))
	}
	return c, nil
}

// MustNew is New that panics; for tests and package-level setup.
func MustNew() *Catalog {
	c, err := New()
	if err != nil {
		panic(err)
	}
	return c
}

// T returns the text with the given ID in lang, with data filled into its
// template ({{.Name}}). An unknown ID returns the ID itself in brackets, so
// that a missing text is visible rather than blank; a test makes sure no
// template asks for one.
func (c *Catalog) T(lang mamoru.Language, id string, data map[string]any) string {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[mamoru.English]
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "[" + id + "]"
	}
	return s
}

// Has reports whether id exists in lang.
func (c *Catalog) Has(lang mamoru.Language, id string) bool { return c.ids[lang][id] }

// IDs returns every ID of lang, sorted.
func (c *Catalog) IDs(lang mamoru.Language) []string {
	var out []string
	for id := range c.ids[lang] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
