package web

import (
	"bytes"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/mamoru-id/mamoru"
	nethtml "golang.org/x/net/html"
)

// outboxMessagePolicy is the Content-Security-Policy of the dev outbox
// message page. The mail's HTML is shown in a sandboxed <iframe srcdoc>,
// which inherits the page's policy; mail HTML uses inline styles and may
// show images, so this page alone allows those. Scripts stay forbidden by
// the policy and by the sandbox.
const outboxMessagePolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// pageOutbox is GET /dev/outbox[?to=…] (dev mode only).
func (s *Server) pageOutbox(w http.ResponseWriter, r *http.Request) error {
	msgs, err := s.outboxMessages(r)
	if err != nil {
		return err
	}
	v := s.newView(r, "web.outbox.title")
	v.Form["to"] = r.URL.Query().Get("to")
	v.Data = msgs
	s.render(w, r, http.StatusOK, "outbox", v)
	return nil
}

// outboxMessageData is the data of the message page.
type outboxMessageData struct {
	Message *mamoru.Message
	Text    template.HTML // the text part, escaped, with its URLs as links
	// SrcDoc is the srcdoc attribute of the frame: the HTML part, its links
	// opening outside the frame, escaped for a quoted attribute. (An
	// html/template value in a srcdoc attribute would have its tags
	// stripped.)
	SrcDoc template.HTMLAttr
}

// pageOutboxMessage is GET /dev/outbox/{id} (dev mode only).
func (s *Server) pageOutboxMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.outbox.MessageByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := s.newView(r, "web.outbox.message_title")
	v.Data = outboxMessageData{Message: m, Text: linkify(m.Text), SrcDoc: srcdocAttr(m.HTML)}
	v.csp = outboxMessagePolicy
	s.render(w, r, http.StatusOK, "outbox_message", v)
	return nil
}

// srcdocAttr returns the srcdoc attribute showing mail HTML in a frame.
func srcdocAttr(mailHTML string) template.HTMLAttr {
	return template.HTMLAttr(`srcdoc="` + html.EscapeString(linksOutOfFrame(mailHTML)) + `"`)
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// linkify escapes text and makes its http(s) URLs links.
func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(text, -1) {
		b.WriteString(html.EscapeString(text[last:m[0]]))
		u := html.EscapeString(text[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `" target="_blank" rel="noopener noreferrer">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(html.EscapeString(text[last:]))
	return template.HTML(b.String())
}

// linksOutOfFrame makes every link of a mail's HTML open in a new browsing
// context: inside the frame our own pages would refuse to load
// (frame-ancestors 'none'). The sandbox lets such popups escape it.
func linksOutOfFrame(src string) string {
	doc, err := nethtml.Parse(strings.NewReader(src))
	if err != nil {
		return src
	}
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		if n.Type == nethtml.ElementNode && n.Data == "a" {
			attrs := n.Attr[:0]
			for _, a := range n.Attr {
				if a.Key != "target" && a.Key != "rel" {
					attrs = append(attrs, a)
				}
			}
			n.Attr = append(attrs,
				nethtml.Attribute{Key: "target", Val: "_blank"},
				nethtml.Attribute{Key: "rel", Val: "noopener noreferrer"})
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	var buf bytes.Buffer
	if err := nethtml.Render(&buf, doc); err != nil {
		return src
	}
	return buf.String()
}
