// Command loadtest drives `sessionkit serve` with concurrent appends and
// writes a Markdown report (bench/LOAD.md through `make loadtest`).
//
// For each scenario it starts fresh server processes of the sessionkit
// binary it is given (memory, SQLite, SQLite with several instances on one
// directory, MongoDB when -mongo-url is set), creates one session, and lets
// -clients closed-loop vegeta workers POST messages without message_id for
// -duration: round-robin over one agent per client, or all to one shared
// agent. It reports acknowledged appends per second, failures by status,
// latency percentiles, and a read-back of every agent's log through the
// API: every acknowledged message stored once under the id it was
// acknowledged with, ids dense, nothing stored twice.
//
// It lives in its own module so that the library's users never download
// vegeta and its dependencies.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// adminToken is the token the servers this command starts accept; they
// listen on loopback only.
const adminToken = "loadtest-admin-token-0123456789"

// sessionID is the one session every scenario writes to.
const sessionID = "load"

type config struct {
	binaries  []binary
	clients   int
	duration  time.Duration
	instances int
	mongoURL  string
	serverCPU string
	only      string
	repeat    int
	out       string
	note      string
}

// binary is one sessionkit build under test and its label in the report.
type binary struct{ label, path string }

// scenario is one run: a backend, how many server instances share it, and
// whether every client writes to one shared agent.
type scenario struct {
	backend   string
	instances int
	shared    bool
}

func (s scenario) name() string {
	target := "one agent per client"
	if s.shared {
		target = "one shared agent"
	}
	if s.instances > 1 {
		return fmt.Sprintf("%s ×%d instances, %s", s.backend, s.instances, target)
	}
	return s.backend + ", " + target
}

// outcome is what the runs of one scenario with one build measured, summed
// over the runs.
type outcome struct {
	scenario scenario
	binary   string
	metrics  vegeta.Metrics // every request of every run
	acked    int
	rates    []float64      // acknowledged appends per second, one per run
	failures map[string]int // status (or transport error) → count
	sample   string         // one failure body, for the report
	check    readBack
}

// add merges the read-back of one run into the totals.
func (rb *readBack) add(o readBack) {
	rb.stored += o.stored
	rb.lost += o.lost
	rb.duplicated += o.duplicated
	rb.wrongID += o.wrongID
	rb.unacked += o.unacked
	rb.dense = rb.dense && o.dense
	if rb.err == nil {
		rb.err = o.err
	}
}

// readBack is the verification of the stored logs against the
// acknowledgements.
type readBack struct {
	stored, lost, duplicated, wrongID, unacked int
	dense                                      bool
	err                                        error
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config
	var bin, compare string
	flag.StringVar(&bin, "sessionkit", "", "path of the sessionkit binary under test (required)")
	flag.StringVar(&compare, "compare", "", "path of a second sessionkit binary (for example the previous release) run on the same scenarios, as label=path")
	flag.IntVar(&cfg.clients, "clients", 64, "concurrent clients (closed-loop workers)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each scenario's attack")
	flag.IntVar(&cfg.instances, "instances", 3, "server instances on one store in the multi-instance scenarios (SQLite directory, MongoDB database)")
	flag.StringVar(&cfg.mongoURL, "mongo-url", "", "MongoDB URL (mongodb://host/...); adds MongoDB scenarios, each on a fresh database")
	flag.StringVar(&cfg.serverCPU, "server-cpus", "", "CPU list for the servers (taskset -c), to keep them off the load generator's cores")
	flag.StringVar(&cfg.only, "only", "", "run only scenarios whose name contains this text")
	flag.StringVar(&cfg.out, "out", "", "write the Markdown report here (default stdout)")
	flag.StringVar(&cfg.note, "note", "", "a line about the machine, printed in the report")
	flag.IntVar(&cfg.repeat, "repeat", 1, "runs of each scenario per build, interleaved across builds; the report gives the median ack/s and its range")
	flag.Parse()
	if bin == "" {
		return errors.New("-sessionkit is required")
	}
	cfg.binaries = []binary{{"this build", bin}}
	if compare != "" {
		label, path, ok := strings.Cut(compare, "=")
		if !ok {
			return errors.New("-compare wants label=path")
		}
		cfg.binaries = append(cfg.binaries, binary{label, path})
	}
	if cfg.clients < 1 || cfg.instances < 1 || cfg.duration <= 0 || cfg.repeat < 1 {
		return errors.New("-clients, -instances, -duration and -repeat must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var scenarios []scenario
	backends := []string{"memory", "sqlite"}
	if cfg.mongoURL != "" {
		backends = append(backends, "mongo")
	}
	for _, b := range backends {
		scenarios = append(scenarios, scenario{b, 1, false}, scenario{b, 1, true})
		if b != "memory" && cfg.instances > 1 {
			scenarios = append(scenarios, scenario{b, cfg.instances, true})
		}
	}
	var outcomes []outcome
	for _, s := range scenarios {
		if cfg.only != "" && !strings.Contains(s.name(), cfg.only) {
			continue
		}
		runs := make([]*outcome, len(cfg.binaries))
		for i, b := range cfg.binaries {
			runs[i] = &outcome{scenario: s, binary: b.label, failures: map[string]int{}, check: readBack{dense: true}}
		}
		// Builds alternate run by run, so that a noisy neighbour hurts
		// both alike.
		for r := range cfg.repeat {
			for i, b := range cfg.binaries {
				fmt.Fprintf(os.Stderr, "== %s (%s) run %d/%d\n", s.name(), b.label, r+1, cfg.repeat)
				o := runs[i]
				acked, lost := o.acked, o.check.lost
				if err := runScenario(ctx, cfg, b, s, o); err != nil {
					return fmt.Errorf("%s (%s): %w", s.name(), b.label, err)
				}
				fmt.Fprintf(os.Stderr, "   %d acknowledged (%.0f/s), failures so far %v, lost %d\n",
					o.acked-acked, o.rates[len(o.rates)-1], o.failures, o.check.lost-lost)
			}
		}
		for _, o := range runs {
			o.metrics.Close()
			outcomes = append(outcomes, *o)
		}
	}
	var w io.Writer = os.Stdout
	if cfg.out != "" {
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return report(w, cfg, outcomes)
}

// server is one running `sessionkit serve`.
type server struct {
	url string
	cmd *exec.Cmd
	log *bytes.Buffer
}

// runScenario runs s once with build b on fresh servers and a fresh store,
// adding what it measured to o.
func runScenario(ctx context.Context, cfg config, b binary, s scenario, o *outcome) error {
	dir, err := os.MkdirTemp("", "sessionkit-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	backendURL, err := storeURL(cfg, s.backend, dir)
	if err != nil {
		return err
	}
	var servers []*server
	defer func() {
		for _, srv := range servers {
			srv.stop()
		}
	}()
	for range s.instances {
		srv, err := start(ctx, cfg, b.path, backendURL)
		if err != nil {
			return err
		}
		servers = append(servers, srv)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	agents := []string{"shared"}
	if !s.shared {
		agents = agents[:0]
		for i := range cfg.clients {
			agents = append(agents, "c"+strconv.Itoa(i))
		}
	}
	if err := setup(ctx, client, servers[0].url, agents); err != nil {
		return err
	}

	var seq atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		n := seq.Add(1) - 1
		srv := servers[n%uint64(len(servers))]
		agent := agents[n%uint64(len(agents))]
		t.Method = http.MethodPost
		t.URL = srv.url + "/api/sessions/" + sessionID + "/agents/" + agent + "/messages"
		t.Body = []byte(`{"message":{"role":"user","content":[{"text":"load-` + strconv.FormatUint(n, 10) + `"}]}}`)
		t.Header = http.Header{"Authorization": {"Bearer " + adminToken}, "Content-Type": {"application/json"}}
		return nil
	}
	attacker := vegeta.NewAttacker(
		vegeta.Workers(uint64(cfg.clients)), vegeta.MaxWorkers(uint64(cfg.clients)),
		vegeta.Connections(cfg.clients), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	acked := map[string]map[string]int{} // agent → text → acknowledged id
	for _, a := range agents {
		acked[a] = map[string]int{}
	}
	began := time.Now()
	acks := 0
	results := attacker.Attack(vegeta.Targeter(targeter), vegeta.ConstantPacer{}, cfg.duration, s.name())
	stopped := false
	for res := range results {
		if ctx.Err() != nil && !stopped {
			attacker.Stop()
			stopped = true
		}
		o.metrics.Add(res)
		if res.Code == http.StatusCreated {
			agent, text, id, err := parseAck(res)
			if err != nil {
				return err
			}
			acked[agent][text] = id
			acks++
			continue
		}
		key := strconv.Itoa(int(res.Code))
		if res.Code == 0 {
			key = "transport error"
		}
		o.failures[key]++
		if o.sample == "" {
			o.sample = strings.TrimSpace(string(res.Body) + " " + res.Error)
		}
	}
	elapsed := time.Since(began)
	if err := ctx.Err(); err != nil {
		return err
	}
	o.acked += acks
	o.rates = append(o.rates, float64(acks)/elapsed.Seconds())
	o.check.add(verify(ctx, client, servers[0].url, acked))
	return nil
}

// storeURL is the backend URL of one scenario: its own memory store, SQLite
// directory or MongoDB database.
func storeURL(cfg config, backend, dir string) (string, error) {
	switch backend {
	case "memory":
		return "memory://", nil
	case "sqlite":
		return (&url.URL{Scheme: "sqlite", Path: dir}).String(), nil
	case "mongo":
		u, err := url.Parse(cfg.mongoURL)
		if err != nil {
			return "", fmt.Errorf("-mongo-url: %w", err)
		}
		u.Path = fmt.Sprintf("/sessionkit_load_%d", time.Now().UnixNano())
		return u.String(), nil
	}
	return "", fmt.Errorf("unknown backend %q", backend)
}

// start runs `sessionkit serve` on a free loopback port and waits for
// /healthz.
func start(ctx context.Context, cfg config, bin, backendURL string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	args := []string{bin, "serve", "--url", backendURL, "--addr", addr, "--admin-token", adminToken, "--log-level", "warn"}
	if cfg.serverCPU != "" {
		args = append([]string{"taskset", "-c", cfg.serverCPU}, args...)
	}
	srv := &server{url: "http://" + addr, log: &bytes.Buffer{}}
	srv.cmd = exec.Command(args[0], args[1:]...)
	srv.cmd.Stdout, srv.cmd.Stderr = srv.log, srv.log
	if err := srv.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			srv.stop()
			return nil, fmt.Errorf("server on %s not healthy: %v\n%s", addr, err, srv.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM (a graceful drain) and waits; it kills after 20s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// call sends one admin request and decodes a JSON answer into out (when
// non-nil), failing unless the status is want.
func call(ctx context.Context, c *http.Client, method, url, body string, want int, out any) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func setup(ctx context.Context, c *http.Client, base string, agents []string) error {
	if err := call(ctx, c, http.MethodPost, base+"/api/sessions", `{"session_id":"`+sessionID+`"}`, http.StatusCreated, nil); err != nil {
		return err
	}
	for _, a := range agents {
		if err := call(ctx, c, http.MethodPost, base+"/api/sessions/"+sessionID+"/agents", `{"agent_id":"`+a+`"}`, http.StatusCreated, nil); err != nil {
			return err
		}
	}
	return nil
}

// wireMessage is the part of the API's message the check reads.
type wireMessage struct {
	MessageID int `json:"message_id"`
	Message   struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"message"`
}

func (m wireMessage) text() string {
	if len(m.Message.Content) == 0 {
		return ""
	}
	return m.Message.Content[0].Text
}

// parseAck reads the agent from the URL and the stored id and text from a
// 201 answer.
func parseAck(res *vegeta.Result) (agent, text string, id int, err error) {
	parts := strings.Split(res.URL, "/")
	if len(parts) < 3 {
		return "", "", 0, fmt.Errorf("unexpected URL %q", res.URL)
	}
	agent = parts[len(parts)-2]
	var m wireMessage
	if err := json.Unmarshal(res.Body, &m); err != nil {
		return "", "", 0, fmt.Errorf("201 body %q: %w", res.Body, err)
	}
	return agent, m.text(), m.MessageID, nil
}

// verify reads every agent's whole log through the API and compares it
// with the acknowledgements.
func verify(ctx context.Context, c *http.Client, base string, acked map[string]map[string]int) readBack {
	rb := readBack{dense: true}
	for agent, want := range acked {
		seen := map[string]int{}
		next := 0
		for {
			var page struct {
				Messages []wireMessage `json:"messages"`
				Total    int           `json:"total"`
			}
			u := fmt.Sprintf("%s/api/sessions/%s/agents/%s/messages?offset=%d&limit=1000", base, sessionID, agent, next)
			if err := call(ctx, c, http.MethodGet, u, "", http.StatusOK, &page); err != nil {
				rb.err = err
				return rb
			}
			for _, m := range page.Messages {
				if m.MessageID != next {
					rb.dense = false
				}
				next = m.MessageID + 1
				rb.stored++
				text := m.text()
				seen[text]++
				switch id, ok := want[text]; {
				case !ok:
					if seen[text] == 1 {
						rb.unacked++
					}
				case seen[text] > 1:
					rb.duplicated++
				case id != m.MessageID:
					rb.wrongID++
				}
			}
			if len(page.Messages) == 0 || next >= page.Total {
				break
			}
		}
		for text := range want {
			if seen[text] == 0 {
				rb.lost++
			}
		}
	}
	return rb
}

func report(w io.Writer, cfg config, outcomes []outcome) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Load test: appends through `sessionkit serve`\n\n")
	fmt.Fprintf(&b, "Generated by bench/loadtest (vegeta; `make loadtest`) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	model, cpus := cpuInfo()
	fmt.Fprintf(&b, "- Machine: %s, %d logical CPUs; the load generator may use %d (GOMAXPROCS %d); %s/%s, %s.\n",
		model, cpus, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if cfg.serverCPU != "" {
		fmt.Fprintf(&b, "- Servers pinned to CPUs %s (taskset); the load generator runs wherever the OS puts it.\n", cfg.serverCPU)
	} else {
		fmt.Fprintf(&b, "- Servers and load generator share the same CPUs.\n")
	}
	if cfg.note != "" {
		fmt.Fprintf(&b, "- %s\n", cfg.note)
	}
	var builds []string
	for _, bin := range cfg.binaries {
		builds = append(builds, fmt.Sprintf("%q = `%s`", bin.label, bin.path))
	}
	fmt.Fprintf(&b, "- Builds: %s. Servers run with their defaults (request timeout 30 s, SQLite busy timeout 5 s).\n", strings.Join(builds, ", "))
	fmt.Fprintf(&b, "- %d closed-loop clients (vegeta workers, one keep-alive connection each), %s per scenario, each scenario on fresh servers and a fresh store. "+
		"Each request is `POST /api/sessions/load/agents/{a}/messages` without `message_id`, a one-block user message; "+
		"\"one agent per client\" sends request n to agent n mod %d, \"one shared agent\" sends all to one agent; with several instances, request n goes to instance n mod N.\n",
		cfg.clients, cfg.duration, cfg.clients)
	fmt.Fprintf(&b, "- %d run(s) of each scenario per build, builds alternating run by run. Requests, acknowledged, failures and read-back are totals over the runs; "+
		"ack/s is the median over the runs (range in brackets), each run's acknowledged ÷ its wall time until the last answer; latencies over every request of every run.\n", cfg.repeat)
	fmt.Fprintf(&b, "- Read-back: every agent's log read through the API after the run. lost = acknowledged but not stored; dup = a message stored twice; "+
		"wrong id = stored under another id than acknowledged; unacked = stored although its request failed (an error after the write); dense = ids 0..n-1 without gaps.\n\n")
	fmt.Fprintf(&b, "| scenario | build | requests | acknowledged | ack/s | failures | p50 | p99 | max | stored | lost | dup | wrong id | unacked | dense |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, o := range outcomes {
		l := o.metrics.Latencies
		dense := "yes"
		if !o.check.dense {
			dense = "**no**"
		}
		if o.check.err != nil {
			dense = "read-back failed: " + o.check.err.Error()
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %d | %d | %d | %d | %d | %s |\n",
			o.scenario.name(), o.binary, o.metrics.Requests, o.acked, rates(o.rates), failures(o.failures),
			ms(l.P50), ms(l.P99), ms(l.Max), o.check.stored, o.check.lost, o.check.duplicated, o.check.wrongID, o.check.unacked, dense)
	}
	var samples []string
	for _, o := range outcomes {
		if o.sample != "" {
			samples = append(samples, fmt.Sprintf("- %s (%s): `%s`", o.scenario.name(), o.binary, truncate(o.sample, 300)))
		}
	}
	if len(samples) > 0 {
		fmt.Fprintf(&b, "\nFirst failure of each scenario that had one:\n\n%s\n", strings.Join(samples, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rates is the median of per-run rates, with their range when there are
// several.
func rates(r []float64) string {
	s := append([]float64(nil), r...)
	sort.Float64s(s)
	if len(s) == 0 {
		return "–"
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return fmt.Sprintf("%.0f", med)
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", med, s[0], s[len(s)-1])
}

func failures(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d × %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "`", "'")), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cpuInfo reads the CPU model name and the number of logical CPUs on
// Linux; elsewhere it reports an unknown model and runtime.NumCPU.
func cpuInfo() (string, int) {
	model, n := "unknown CPU", 0
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return model, runtime.NumCPU()
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		switch k = strings.TrimSpace(k); {
		case !ok:
		case k == "processor":
			n++
		case k == "model name" && model == "unknown CPU":
			model = strings.TrimSpace(v)
		}
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	return model, n
}
