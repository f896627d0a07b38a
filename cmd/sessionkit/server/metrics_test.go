package server_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// The expiry sweeper's counters (reported by every backend's Stats) are
// described on /metrics like the server's own: a HELP line, then TYPE.
func TestMetrics_ExpirySweeperCountersHaveHelpAndType(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) {
		o.Stats = []session.StatsReporter{staticStats{
			"expiry_sweeps_total": 4, "expiry_sessions_swept_total": 7,
			"expiry_sweep_errors_total": 1, "expiry_last_sweep_timestamp_seconds": 1.7e9,
		}}
	})
	resp, err := http.Get(f.url + "/metrics")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	for name, kind := range map[string]string{
		"sessionkit_expiry_sweeps_total":                 "counter",
		"sessionkit_expiry_sessions_swept_total":         "counter",
		"sessionkit_expiry_sweep_errors_total":           "counter",
		"sessionkit_expiry_last_sweep_timestamp_seconds": "gauge",
	} {
		assert.Regexp(t, `(?m)^# HELP `+name+` \S.*\n# TYPE `+name+` `+kind+`\n`+name+` `, string(raw), name)
	}
}
