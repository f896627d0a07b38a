package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// latencyBuckets are the request-duration histogram bounds, in seconds.
var latencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics holds request counters and latency histograms by route.
type metrics struct {
	mu       sync.Mutex
	requests map[routeStatus]uint64
	latency  map[string]*histogram
}

type routeStatus struct {
	route  string
	status int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeStatus]uint64{}, latency: map[string]*histogram{}}
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[routeStatus{route, status}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[route] = h
	}
	sec := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, sec)
	h.counts[i]++
	h.sum += sec
	h.count++
}

// write renders the metrics in the Prometheus text exposition format.
func (m *metrics) write(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.WriteString("# HELP sessionkit_http_requests_total HTTP requests served, by route and status.\n")
	b.WriteString("# TYPE sessionkit_http_requests_total counter\n")
	keys := make([]routeStatus, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b routeStatus) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		return a.status - b.status
	})
	for _, k := range keys {
		method, path := splitRoute(k.route)
		fmt.Fprintf(b, "sessionkit_http_requests_total{method=%s,route=%s,code=\"%d\"} %d\n",
			quote(method), quote(path), k.status, m.requests[k])
	}
	b.WriteString("# HELP sessionkit_http_request_duration_seconds HTTP request latency, by route.\n")
	b.WriteString("# TYPE sessionkit_http_request_duration_seconds histogram\n")
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		h := m.latency[r]
		method, path := splitRoute(r)
		labels := "method=" + quote(method) + ",route=" + quote(path)
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "sessionkit_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels, formatFloat(le), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(b, "sessionkit_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, cum)
		fmt.Fprintf(b, "sessionkit_http_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(h.sum))
		fmt.Fprintf(b, "sessionkit_http_request_duration_seconds_count{%s} %d\n", labels, h.count)
	}
}

// splitRoute splits a mux pattern "GET /api/x" into method and path.
func splitRoute(route string) (string, string) {
	if m, p, ok := strings.Cut(route, " "); ok {
		return m, p
	}
	return "", route
}

// quote renders a Prometheus label value.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

var invalidMetricChars = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

// metricName turns a StatsReporter key into a valid metric name with the
// sessionkit_ prefix.
func metricName(key string) string {
	n := invalidMetricChars.ReplaceAllString(key, "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		n = "_" + n
	}
	if !strings.HasPrefix(n, "sessionkit_") {
		n = "sessionkit_" + n
	}
	return n
}

// statsHelper is implemented by StatsReporters that describe their
// counters (rediscache.Cache); the descriptions become HELP lines.
type statsHelper interface {
	StatsHelp() map[string]string
}

// storeHelp describes counters every backend reports through its Stats
// (the expiry sweeper's, session/driver.Sweeper), so /metrics has HELP
// lines for them whichever backend serves; a reporter's own StatsHelp
// wins.
var storeHelp = map[string]string{
	"expiry_sweeps_total":                 "Expiry sweeper passes run.",
	"expiry_sessions_swept_total":         "Expired sessions the sweeper removed, with everything they own.",
	"expiry_sweep_errors_total":           "Expiry sweeper passes that failed (retried on the next pass).",
	"expiry_last_sweep_timestamp_seconds": "Unix time the last expiry sweeper pass ended; 0 before the first.",
}

// helpEscaper escapes a HELP text as the exposition format requires.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// serveMetrics answers /metrics in the Prometheus text format: request
// counts and latency, then the repository's and the extra reporters'
// counters (pool, cache, hooks) as untyped samples.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	s.metrics.write(&b)
	reporters := slices.Clone(s.opts.Stats)
	if sr, ok := s.repo.(session.StatsReporter); ok {
		reporters = append([]session.StatsReporter{sr}, reporters...)
	}
	seen := map[string]bool{}
	for _, sr := range reporters {
		stats := sr.Stats()
		var help map[string]string
		if sh, ok := sr.(statsHelper); ok {
			help = sh.StatsHelp()
		}
		keys := make([]string, 0, len(stats))
		for k := range stats {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := metricName(k)
			if seen[name] {
				continue
			}
			seen[name] = true
			kind := "gauge"
			if strings.HasSuffix(name, "_total") {
				kind = "counter"
			}
			h := help[k]
			if h == "" {
				h = storeHelp[k]
			}
			if h != "" {
				fmt.Fprintf(&b, "# HELP %s %s\n", name, helpEscaper.Replace(h))
			}
			fmt.Fprintf(&b, "# TYPE %s %s\n%s %s\n", name, kind, name, formatFloat(stats[k]))
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}

// cachePinger is implemented by a caching decorator (rediscache.Cache)
// that can say whether its cache works, apart from the backend.
type cachePinger interface {
	PingCache(ctx context.Context) error
}

// healthBody is /healthz's answer. On 503 it carries the API's error
// object as well.
type healthBody struct {
	Error   *errorDetail `json:"error,omitempty"`
	Status  string       `json:"status"`
	Backend string       `json:"backend"`
	Cache   string       `json:"cache,omitempty"`
	Reason  string       `json:"reason,omitempty"`
}

// healthTimeout bounds each /healthz check; backend and cache are checked
// concurrently, so a dead Redis does not delay the backend's answer.
const healthTimeout = 2 * time.Second

// healthz answers 200 when the backend answers a ping — with "cache":
// "degraded" and the reason when a cache in front of it does not, since
// the cache fails open and every request is still served — and 503 with
// the API's error object when the backend does not.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var backendErr, cacheErr error
	var wg sync.WaitGroup
	p, pings := s.repo.(session.Pinger)
	if pings {
		wg.Go(func() { backendErr = p.Ping(ctx) })
	}
	cp, cached := s.repo.(cachePinger)
	if cached {
		wg.Go(func() { cacheErr = cp.PingCache(ctx) })
	}
	wg.Wait()
	body := healthBody{Status: "ok", Backend: "ok"}
	if !pings {
		body.Backend = "no ping support"
	}
	if cached {
		body.Cache = "ok"
		if cacheErr != nil {
			s.log.WarnContext(r.Context(), "health check: cache degraded", "err", cacheErr)
			body.Status, body.Cache, body.Reason = "degraded", "degraded", cacheErr.Error()
		}
	}
	if backendErr != nil {
		s.log.WarnContext(r.Context(), "health check failed", "err", backendErr)
		body.Status, body.Backend = "unavailable", "unavailable"
		body.Error = &errorDetail{Code: "backend_unavailable", Message: "backend did not answer"}
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
