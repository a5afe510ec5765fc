package webhook

import (
	"encoding/json"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Payload is the JSON webhook body (format "json"), and the event object of
// the mamoru-specific SET event types. Its schema is stable and documented
// in docs/webhooks.md: fields are only ever added. Every top-level key is
// always present ("" or {} when unknown); inside place and device a key is
// absent when unknown.
type Payload struct {
	ID        string            `json:"id"`         // the event ID
	Type      string            `json:"type"`       // the event type, e.g. "password.changed"
	Time      string            `json:"time"`       // when it happened, RFC 3339 UTC with fractional seconds
	AccountID string            `json:"account_id"` // "" for sign-in attempts on unknown addresses
	IP        string            `json:"ip"`
	Place     PayloadPlace      `json:"place"`
	Device    PayloadDevice     `json:"device"`
	SessionID string            `json:"session_id"`
	Outcome   string            `json:"outcome"`
	Details   map[string]string `json:"details"` // only the keys of DetailKeys
}

// PayloadPlace is where the IP address was, approximately.
type PayloadPlace struct {
	Country  string   `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Region   string   `json:"region,omitempty"`
	RegionJA string   `json:"region_ja,omitempty"`
	City     string   `json:"city,omitempty"`
	CityJA   string   `json:"city_ja,omitempty"`
	Lat      *float64 `json:"lat,omitempty"` // present only with lon
	Lon      *float64 `json:"lon,omitempty"`
	RadiusKM int      `json:"radius_km,omitempty"`
	ASN      uint32   `json:"asn,omitempty"`
	Org      string   `json:"org,omitempty"`
}

// PayloadDevice is what the User-Agent said about the client.
type PayloadDevice struct {
	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	Type           string `json:"type,omitempty"`
}

// DetailKeys are the Event.Details keys a webhook carries; any other key is
// dropped, so that a detail added to events later is not sent before it is
// reviewed and documented. None of them holds a secret, a code, a token or
// password material.
var DetailKeys = []string{
	mamoru.DetailOldEmail, mamoru.DetailNewEmail, mamoru.DetailOldPhone, mamoru.DetailNewPhone,
	mamoru.DetailReason, mamoru.DetailTemplate, mamoru.DetailChannel, mamoru.DetailTo,
	mamoru.DetailEventID, mamoru.DetailNew, mamoru.DetailActor,
	"language", "time_zone", // settings.changed
}

var detailAllowed = func() map[string]bool {
	m := make(map[string]bool, len(DetailKeys))
	for _, k := range DetailKeys {
		m[k] = true
	}
	return m
}()

// NewPayload returns the payload of e.
func NewPayload(e *mamoru.Event) *Payload {
	p := &Payload{
		ID:        e.ID,
		Type:      string(e.Type),
		Time:      e.Time.UTC().Format(time.RFC3339Nano),
		AccountID: e.AccountID,
		IP:        e.IP,
		SessionID: e.SessionID,
		Outcome:   e.Outcome,
		Details:   make(map[string]string, len(e.Details)),
		Place: PayloadPlace{
			Country: e.Place.Country, Region: e.Place.Region, RegionJA: e.Place.RegionJA,
			City: e.Place.City, CityJA: e.Place.CityJA, RadiusKM: e.Place.RadiusKM,
			ASN: e.Place.ASN, Org: e.Place.Org,
		},
		Device: PayloadDevice{
			Browser: e.Device.Browser, BrowserVersion: e.Device.BrowserVersion,
			OS: e.Device.OS, OSVersion: e.Device.OSVersion, Type: e.Device.Type,
		},
	}
	if e.Place.HasCoords {
		lat, lon := e.Place.Latitude, e.Place.Longitude
		p.Place.Lat, p.Place.Lon = &lat, &lon
	}
	for k, v := range e.Details {
		if detailAllowed[k] {
			p.Details[k] = v
		}
	}
	return p
}

// marshalPayload returns the JSON body of e (map keys sorted, so the same
// event always gives the same bytes).
func marshalPayload(e *mamoru.Event) ([]byte, error) {
	return json.Marshal(NewPayload(e))
}
