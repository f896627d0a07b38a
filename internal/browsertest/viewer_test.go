package browsertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/internal/testservice"
)

const adminToken = "browser-test-admin-token-42"

// chromium finds the browser binary, or skips (fails under
// SESSIONKIT_REQUIRE_SERVICES=1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testservice.Unavailable(t, "chromium not installed (apt-get install chromium)")
	return ""
}

// startServer serves the viewer over a memory repository filled by the
// demo, on a loopback port, until the test ends.
func startServer(t *testing.T) (string, *demo.Result) {
	t.Helper()
	repo := memory.New(memory.Options{})
	res, err := demo.Run(context.Background(), repo, demo.Options{RunID: "web"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, 5*time.Second) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = repo.Close()
	})
	return "http://" + l.Addr().String(), res
}

func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

func artifactsDir(t *testing.T) string {
	if d := os.Getenv("SESSIONKIT_ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func TestViewer_AdminLogsInSearchesAndReadsATimeline(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#login-admin"),
		chromedp.SendKeys("#admin-token", adminToken),
		chromedp.Click("#login-admin-btn"),
		chromedp.WaitVisible("#search-view"),
		chromedp.WaitVisible(`tr[data-session-id]`),
		chromedp.SendKeys("#f-app", "customer-support-bot"),
		chromedp.SendKeys("#f-meta", "status=resolved"),
		chromedp.Click("#search-btn"),
		chromedp.WaitVisible(`tr[data-session-id="demo-web-support"]`),
		// The filtered result list replaces the unfiltered one.
		chromedp.WaitNotPresent(`tr[data-session-id="demo-web-travel"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	rows := run(t, ctx, chromedp.Text("#results tbody"))
	if err := chromedp.Do(ctx,
		chromedp.Click(`tr[data-session-id="demo-web-support"]`),
		chromedp.WaitVisible(".ev.feedback"),
	); err != nil {
		t.Fatal(err)
	}
	timeline := run(t, ctx, chromedp.Text("#timeline"))
	shot := run(t, ctx, chromedp.FullScreenshot(90))
	if strings.Contains(rows, "demo-web-billing") || strings.Contains(rows, "demo-web-travel") {
		t.Errorf("search filters not applied; rows: %q", rows)
	}
	for _, want := range []string{"TOOL CALL", "lookup_order", "REDACTED", "[User input redacted.]", "Guardrail BLOCKED",
		"Feedback on support-agent #3", "Clear explanation of the double charge", "tokens in"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	path := filepath.Join(artifactsDir(t), "viewer-timeline.jpg")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}

func TestViewer_SessionPasswordOpensOnlyThatSession(t *testing.T) {
	base, res := startServer(t)
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#login-session"),
		chromedp.SendKeys("#login-session-id", "demo-web-support"),
		chromedp.SendKeys("#login-password", res.ViewerPasswords["demo-web-travel"]),
		chromedp.Click("#login-session-btn"),
		chromedp.WaitVisible("#login-error:not(:empty)"),
	)
	if err != nil {
		t.Fatal(err)
	}
	loginError := run(t, ctx, chromedp.Text("#login-error"))
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#login-password", res.ViewerPasswords["demo-web-support"]),
		chromedp.Click("#login-session-btn"),
		chromedp.WaitVisible(".ev.feedback"),
	); err != nil {
		t.Fatal(err)
	}
	timeline := run(t, ctx, chromedp.Text("#timeline"))
	if !strings.Contains(loginError, "401") {
		t.Errorf("another session's password should fail with 401, got %q", loginError)
	}
	if !strings.Contains(timeline, "lookup_order") {
		t.Errorf("timeline lacks the tool call: %q", timeline)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
