package soak

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Defaults applied by Run to zero Config fields: the CI size.
const (
	DefaultAgents     = 8
	DefaultSessions   = 4
	DefaultOps        = 20
	DefaultSharedLogs = 2
	DefaultOpTimeout  = 2 * time.Second
	DefaultSlack      = 500 * time.Millisecond
	DefaultThink      = 2 * time.Millisecond
	DefaultRetryPause = 20 * time.Millisecond
	// DefaultApplicationName tags the sessions a soak creates.
	DefaultApplicationName = "sessionkit-soak"
)

// ScaleEnv names the environment variable that sizes soak runs in tests:
// "ci" (the default), "large", or "AGENTSxSESSIONSxOPS" such as "32x16x200".
const ScaleEnv = "SESSIONKIT_SOAK_SCALE"

// Scale is the size of a soak run.
type Scale struct {
	Agents, Sessions, Ops int
}

// Named scales.
var (
	// ScaleCI is small enough to run with -race on two shared cores in a
	// few seconds per backend.
	ScaleCI = Scale{Agents: DefaultAgents, Sessions: DefaultSessions, Ops: DefaultOps}
	// ScaleLarge is the local soak size.
	ScaleLarge = Scale{Agents: 32, Sessions: 16, Ops: 200}
)

// ParseScale parses "ci", "large" or "AxSxO" (agents × sessions × ops per
// agent). The empty string is ScaleCI.
func ParseScale(s string) (Scale, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "ci":
		return ScaleCI, nil
	case "large":
		return ScaleLarge, nil
	}
	parts := strings.Split(strings.ToLower(s), "x")
	if len(parts) != 3 {
		return Scale{}, driver.InvalidArgument("soak scale", "%q: want ci, large or AGENTSxSESSIONSxOPS", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 || v > 100_000 {
			return Scale{}, driver.InvalidArgument("soak scale", "%q: %q is not a count in 1..100000", s, p)
		}
		n[i] = v
	}
	return Scale{Agents: n[0], Sessions: n[1], Ops: n[2]}, nil
}

// String formats the scale as ParseScale reads it.
func (s Scale) String() string { return fmt.Sprintf("%dx%dx%d", s.Agents, s.Sessions, s.Ops) }

// Mix weighs the kinds of operations a worker draws. The zero value is
// 6:2:2 (append : metadata : feedback).
type Mix struct {
	Append, Metadata, Feedback int
}

// Config describes a soak run. The zero value is useful: every zero field
// takes the default named after it.
type Config struct {
	// Agents is the number of concurrent simulated agents (workers).
	Agents int
	// Sessions is the number of sessions they share: worker w writes to
	// session w mod Sessions.
	Sessions int
	// Ops is the number of operations each worker attempts, failed ones
	// included.
	Ops int
	// SharedLogs is how many workers of a session append to one agent log
	// concurrently, each through its own manager (DefaultSharedLogs).
	SharedLogs int
	// Mix weighs the operations (6:2:2 when zero).
	Mix Mix
	// OpTimeout is every call's deadline (DefaultOpTimeout).
	OpTimeout time.Duration
	// Slack is how much later than its deadline a call may return before
	// it counts as an overrun (DefaultSlack).
	Slack time.Duration
	// Think is the mean pause between a worker's operations
	// (DefaultThink; uniformly jittered in [0, 2·Think)). Negative means
	// none.
	Think time.Duration
	// RetryPause is the base of the pause after a failed call, doubled per
	// consecutive failure up to 16 times it (DefaultRetryPause).
	RetryPause time.Duration
	// RunID makes this run's session ids and payloads unique; empty means
	// random. It must be a valid id fragment (letters, digits, '-', '_').
	RunID string
	// Seed makes the operation mix reproducible; 0 means 1.
	Seed uint64
	// ApplicationName tags the sessions (DefaultApplicationName).
	ApplicationName string
	// Hooks are passed to every worker's manager.
	Hooks []manager.Hook
	// Faults run in order while the workers write (see Fault).
	Faults []Fault
}

// WithScale returns c sized by s.
func (c Config) WithScale(s Scale) Config {
	c.Agents, c.Sessions, c.Ops = s.Agents, s.Sessions, s.Ops
	return c
}

func (c Config) withDefaults() (Config, error) {
	if c.Agents < 0 || c.Sessions < 0 || c.Ops < 0 || c.SharedLogs < 0 {
		return c, driver.InvalidArgument("soak config", "agents, sessions, ops and shared logs must not be negative")
	}
	if c.Agents == 0 {
		c.Agents = DefaultAgents
	}
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	if c.Ops == 0 {
		c.Ops = DefaultOps
	}
	if c.SharedLogs == 0 {
		c.SharedLogs = DefaultSharedLogs
	}
	if c.Mix.Append < 0 || c.Mix.Metadata < 0 || c.Mix.Feedback < 0 {
		return c, driver.InvalidArgument("soak mix", "weights must not be negative")
	}
	if c.Mix == (Mix{}) {
		c.Mix = Mix{Append: 6, Metadata: 2, Feedback: 2}
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	if c.Slack <= 0 {
		c.Slack = DefaultSlack
	}
	switch {
	case c.Think == 0:
		c.Think = DefaultThink
	case c.Think < 0:
		c.Think = 0
	}
	if c.RetryPause <= 0 {
		c.RetryPause = DefaultRetryPause
	}
	if c.RunID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.RunID = hex.EncodeToString(b[:])
	}
	if len(c.RunID) > 64 || strings.IndexFunc(c.RunID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return c, driver.InvalidArgument("soak run id", "%q: want up to 64 letters, digits, '-' or '_'", c.RunID)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.ApplicationName == "" {
		c.ApplicationName = DefaultApplicationName
	}
	for i, f := range c.Faults {
		if f.Inject == nil || f.At < 0 || f.At >= 1 || f.Hold < 0 {
			return c, driver.InvalidArgument("soak fault", "%d (%q): needs Inject, At in [0, 1) and Hold >= 0", i, f.Name)
		}
	}
	return c, nil
}

// SessionID returns the id of session i of run runID.
func SessionID(runID string, i int) string { return fmt.Sprintf("soak-%s-s%03d", runID, i) }

// AgentID returns the id of the agent log worker w appends to.
func (c Config) agentID(w int) string {
	return fmt.Sprintf("agent-%d", (w/c.Sessions)/c.SharedLogs)
}
