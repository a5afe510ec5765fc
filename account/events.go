package account

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/event"
)

// record records an event of type t about the account, from the client of
// r, in tx.
func (s *Service) record(ctx context.Context, tx mamoru.Tx, t mamoru.EventType, accountID string, r mamoru.Request, details map[string]string) (*mamoru.Event, error) {
	e := event.FromRequest(t, accountID, r)
	e.Details = details
	if err := s.events.Record(ctx, tx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// answerLinks issues a one-click "was this you?" link about e and returns
// its yes and no URLs.
func (s *Service) answerLinks(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, e *mamoru.Event) (yes, no string, err error) {
	t, err := s.issueToken(ctx, tx, a, mamoru.PurposeEventFeedback, s.cfg.AnswerTTL, e.ID)
	if err != nil {
		return "", "", err
	}
	yes = s.mailer.Link("/events/answer", url.Values{"token": {t.link}, "answer": {"yes"}})
	no = s.mailer.Link("/events/answer", url.Values{"token": {t.link}, "answer": {"no"}})
	return yes, no, nil
}

// notifyEvent mails the owner about e with the template: when, from which
// device, approximately where and from which IP, with "was this you?"
// links, plus extra data.
func (s *Service) notifyEvent(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, e *mamoru.Event, template string, extra map[string]any) error {
	yes, no, err := s.answerLinks(ctx, tx, a, e)
	if err != nil {
		return err
	}
	data := map[string]any{
		"Time": e.Time, "Place": e.Place, "Device": e.Device, "IP": e.IP,
		"YesLink": yes, "NoLink": no,
		"HistoryLink": s.mailer.Link("/account/activity", nil),
		"EventsLink":  s.mailer.Link("/account/events", nil),
		"ForgotLink":  s.mailer.Link("/password/forgot", nil),
	}
	for k, v := range extra {
		data[k] = v
	}
	return s.mailer.Enqueue(ctx, tx, s.mail(a, template, data))
}

// deviceKey and placeKey say what makes a device or a place "the same"
// for new-sign-in notifications: browser, OS and type without versions
// (browsers update themselves); city, or the network when GeoIP knows no
// city, or the /24 (/48) prefix when there is no GeoIP at all.
func deviceKey(d mamoru.Device) string {
	return d.Browser + "|" + d.OS + "|" + d.Type
}

func placeKey(e *mamoru.Event) string {
	p := e.Place
	switch {
	case p.Country != "":
		return p.Country + "|" + p.Region + "|" + p.City
	case p.ASN != 0:
		return "AS|" + strconv.FormatUint(uint64(p.ASN), 10)
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	pfx, _ := ip.Prefix(bits)
	return pfx.String()
}

// novelty reports what about e is new compared with the earlier events:
// "device", "place", "device,place" or "".
func novelty(e *mamoru.Event, earlier []*mamoru.Event) string {
	seenDevice, seenPlace := false, false
	dk, pk := deviceKey(e.Device), placeKey(e)
	for _, x := range earlier {
		if x.ID == e.ID {
			continue
		}
		seenDevice = seenDevice || deviceKey(x.Device) == dk
		seenPlace = seenPlace || placeKey(x) == pk
	}
	var parts []string
	if !seenDevice {
		parts = append(parts, "device")
	}
	if !seenPlace {
		parts = append(parts, "place")
	}
	return strings.Join(parts, ",")
}
