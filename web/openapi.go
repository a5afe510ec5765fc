package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed openapi.json
var openAPISource []byte

// openAPIDocument returns the embedded OpenAPI document with the servers
// entry set to the public base URL and the version to the server's.
func openAPIDocument(cfg Config) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		return nil, fmt.Errorf("web: openapi.json: %w", err)
	}
	doc["servers"] = []map[string]string{{"url": strings.TrimSuffix(cfg.BaseURL.String(), "/")}}
	if info, ok := doc["info"].(map[string]any); ok && cfg.Version != "" {
		info["version"] = cfg.Version
	}
	return json.MarshalIndent(doc, "", "  ")
}
