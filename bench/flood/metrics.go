package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The server's Prometheus counters the report uses.
const (
	metricVerifications = "mamoru_password_verifications_total" // every argon2id verification, dummy ones included
	metricGuard         = "mamoru_guard_rejections_total"       // attempts the guard refused, by reason
)

// metrics is one scrape of GET /metrics.
type metrics struct {
	ok            bool   // the verification counter was there
	why           string // when not ok: what was missing
	verifications float64
	guard         map[string]float64 // by reason label
}

// scrapeMetrics reads base/metrics. It never fails: a missing endpoint or
// counter is recorded in why, for the report to say "unknown".
func scrapeMetrics(ctx context.Context, client *http.Client, base string) metrics {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return metrics{why: err.Error()}
	}
	// No X-Forwarded-For: the endpoint answers loopback peers only.
	resp, err := client.Do(req)
	if err != nil {
		return metrics{why: "GET /metrics: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return metrics{why: "GET /metrics: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return metrics{why: fmt.Sprintf("GET /metrics answered %d", resp.StatusCode)}
	}
	return parseMetrics(string(body))
}

// parseMetrics reads the counters from the Prometheus text format: the
// verification counter summed over its series, the guard rejections
// summed by their reason label.
func parseMetrics(text string) metrics {
	m := metrics{guard: map[string]float64{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := parseSample(line)
		if !ok {
			continue
		}
		switch name {
		case metricVerifications:
			m.ok = true
			m.verifications += value
		case metricGuard:
			reason := labelValue(labels, "reason")
			if reason == "" {
				reason = "(no reason)"
			}
			m.guard[reason] += value
		}
	}
	if !m.ok {
		m.why = "/metrics has no " + metricVerifications
	}
	return m
}

// parseSample splits `name{labels} value [timestamp]`.
func parseSample(line string) (name, labels string, value float64, ok bool) {
	rest := line
	if i := strings.IndexAny(line, "{ \t"); i >= 0 && line[i] == '{' {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		f := strings.Fields(line)
		if len(f) < 2 {
			return "", "", 0, false
		}
		name, rest = f[0], strings.Join(f[1:], " ")
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return name, labels, v, true
}

// labelValue returns the value of label key in `a="x",b="y"` (escapes
// \" \\ \n as in the text format), or "".
func labelValue(labels, key string) string {
	for labels != "" {
		eq := strings.IndexByte(labels, '=')
		if eq < 0 || eq+1 >= len(labels) || labels[eq+1] != '"' {
			return ""
		}
		k := strings.TrimSpace(labels[:eq])
		var v strings.Builder
		i := eq + 2
		for ; i < len(labels) && labels[i] != '"'; i++ {
			if labels[i] == '\\' && i+1 < len(labels) {
				i++
				if labels[i] == 'n' {
					v.WriteByte('\n')
					continue
				}
			}
			v.WriteByte(labels[i])
		}
		if k == key {
			return v.String()
		}
		labels = strings.TrimLeft(labels[min(i+1, len(labels)):], ", ")
	}
	return ""
}
