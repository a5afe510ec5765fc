package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"

	"github.com/mamoru-id/mamoru"
)

// readJSONBody checks that the request is application/json and reads its
// body, at most Config.MaxBodyBytes of it.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, mamoru.Errorf(mamoru.EUnsupportedMediaType, "Content-Type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		if isMaxBytes(err) {
			return nil, mamoru.Errorf(mamoru.EPayloadTooLarge, "body larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, mamoru.WrapError(mamoru.EInvalidRequest, err, "reading the body failed")
	}
	return body, nil
}

// decodeJSON reads the request body into v strictly: the body must be one
// JSON object with only the fields of v, and nothing after it.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readJSONBody(w, r)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// decodeEmptyJSON is decodeJSON for endpoints without input: the body may
// be empty or {}, and the content type must still be application/json.
func (s *Server) decodeEmptyJSON(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readJSONBody(w, r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return decodeStrict(body, &struct{}{})
}

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// type mismatches, non-objects and trailing data.
func decodeStrict(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return mamoru.Errorf(mamoru.EInvalidJSON, "empty body")
	}
	if body[0] != '{' {
		return mamoru.Errorf(mamoru.EInvalidJSON, "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return mamoru.WrapError(mamoru.EInvalidJSON, err, "malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return mamoru.Errorf(mamoru.EInvalidJSON, "data after the JSON object")
	}
	return nil
}
