package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// clientFrom returns an HTTP client whose connections come from source
// address ip (any 127.0.0.0/8 address is local on Linux), so that tests can
// be many clients without a proxy.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func statusOf(t *testing.T, c *http.Client, method, url string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// A correct credential is never refused because of failures, its own
// client's or anyone's: after a client has exhausted every failure budget,
// the right admin token and the right viewer password from that same client
// are served.
func TestLimiter_CorrectCredentialIsNeverRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) {
		o.LoginRate = server.Rate{PerSecond: 0.001, Burst: 6} // both kinds of failure
		o.TargetRate = server.Rate{PerSecond: 0.001, Burst: 3}
		o.FailedAuthDelay = -1
	})
	c := http.DefaultClient
	for i := range 12 {
		want := 401
		if i >= 3 {
			want = 429
		}
		assert.Equal(t, want, statusOf(t, c, "GET", f.url+"/api/sessions", map[string]string{"Authorization": "Bearer wrong"}), "bad token %d", i)
		assert.Equal(t, want, statusOf(t, c, "GET", f.url+"/api/sessions/demo-t-support", map[string]string{server.SessionPasswordHeader: "wrong"}), "bad password %d", i)
	}
	assert.Equal(t, 200, statusOf(t, c, "GET", f.url+"/api/sessions", map[string]string{"Authorization": "Bearer " + adminToken}))
	assert.Equal(t, 200, statusOf(t, c, "GET", f.url+"/api/sessions/demo-t-support", map[string]string{server.SessionPasswordHeader: f.passwords["demo-t-support"]}))
	status, body, _ := f.do(t, request{method: "POST", path: "/api/login", noAuth: true, body: `{"admin_token":"` + adminToken + `"}`})
	assert.Equal(t, 200, status, "%v", body)
}

// Failures are limited per target across all clients: 50 source addresses
// guessing one session's viewer password get no more plain "wrong" answers
// between them than one address would, and the right password still works.
func TestLimiter_RotatingAddressesGainNothing(t *testing.T) {
	t.Parallel()
	const perClient, perTarget = 5, 10
	f := newFixture(t, func(o *server.Options) {
		o.LoginRate = server.Rate{PerSecond: 0.001, Burst: perClient}
		o.TargetRate = server.Rate{PerSecond: 0.001, Burst: perTarget}
		o.FailedAuthDelay = -1
	})
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			c := clientFrom(fmt.Sprintf("127.0.1.%d", i+1))
			for g := range 10 {
				s := statusOf(t, c, "GET", f.url+"/api/sessions/demo-t-support", map[string]string{server.SessionPasswordHeader: fmt.Sprintf("guess-%d-%d", i, g)})
				mu.Lock()
				counts[s]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("500 guesses from 50 addresses: %v", counts)
	assert.Equal(t, 500, counts[401]+counts[429], "every guess failed: %v", counts)
	assert.LessOrEqual(t, counts[401], perTarget, "the target's ceiling holds across addresses: %v", counts)
	assert.Equal(t, 200, statusOf(t, clientFrom("127.0.1.1"), "GET", f.url+"/api/sessions/demo-t-support",
		map[string]string{server.SessionPasswordHeader: f.passwords["demo-t-support"]}))
}

// Behind a trusted proxy, X-Forwarded-For names the client: one client's
// failures do not limit another's, and an address a client writes into the
// header itself is ignored (the proxy appends the real one).
func TestLimiter_TrustedProxies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) {
		o.LoginRate = server.Rate{PerSecond: 0.001, Burst: 2}
		o.TargetRate = server.Rate{PerSecond: 0.001, Burst: 1000}
		o.FailedAuthDelay = -1
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	bad := func(xff string) int {
		return statusOf(t, http.DefaultClient, "GET", f.url+"/api/sessions/demo-t-support",
			map[string]string{server.SessionPasswordHeader: "wrong", "X-Forwarded-For": xff})
	}
	assert.Equal(t, 401, bad("203.0.113.1"))
	assert.Equal(t, 401, bad("203.0.113.1"))
	assert.Equal(t, 429, bad("203.0.113.1"), "client A's own budget is spent")
	assert.Equal(t, 401, bad("203.0.113.2"), "client B is not limited by A")
	assert.Equal(t, 401, bad("203.0.113.1, 198.51.100.7"), "the address the proxy appended counts, not the one the client wrote")
	assert.Equal(t, 429, bad("198.51.100.9, 203.0.113.1"), "A cannot reset its budget by prepending an address")
	assert.Equal(t, 429, bad("203.0.113.1, 127.0.0.1"), "trusted hops are skipped from the right")
	assert.Equal(t, 401, bad("2001:db8:0:1::1"))
	assert.Equal(t, 401, bad("2001:db8:0:1::2"))
	assert.Equal(t, 429, bad("2001:db8:0:1:ffff::3"), "an IPv6 client is its /64")
	assert.Equal(t, 401, bad("2001:db8:0:2::1"), "another /64 is another client")
}

// A wrong viewer password takes the same minimum time whether the session
// exists or not, so timing does not reveal which sessions exist.
func TestLimiter_WrongPasswordTimingHidesExistence(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, path := range []string{"/api/sessions/demo-t-support", "/api/sessions/no-such-session", "/api/sessions/demo-t-support/timeline"} {
		start := time.Now()
		status := statusOf(t, http.DefaultClient, "GET", f.url+path, map[string]string{server.SessionPasswordHeader: "wrong"})
		elapsed := time.Since(start)
		assert.Equal(t, 401, status)
		assert.GreaterOrEqual(t, elapsed, server.DefaultFailedAuthDelay, "%s answered after %v", path, elapsed)
	}
	start := time.Now()
	status, _, _ := f.do(t, request{method: "POST", path: "/api/login", noAuth: true, body: `{"session_id":"nope","password":"x"}`})
	assert.Equal(t, 401, status)
	assert.GreaterOrEqual(t, time.Since(start), server.DefaultFailedAuthDelay, "login too")
}
