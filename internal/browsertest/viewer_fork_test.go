package browsertest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A fork's page says where it was forked from, with a link to the source;
// the source's page lists its forks, with links back.
func TestViewer_ForkLineageBothWays(t *testing.T) {
	base, _ := startServer(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/sessions/demo-web-support/fork",
		strings.NewReader(`{"session_id":"web-fork","agent_id":"support-agent","message_id":3}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST fork: %s", resp.Status)
	}
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/web-fork")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#tl-lineage .forked-from a")); err != nil {
		t.Fatal(err)
	}
	text := run(t, ctx, chromedp.Text("#tl-lineage .forked-from"))
	if !strings.Contains(text, "demo-web-support") || !strings.Contains(text, "agent support-agent, message 3") {
		t.Errorf("origin line: %q", text)
	}
	// Follow the link to the source: it lists the fork.
	if err := chromedp.Do(ctx, chromedp.Click("#tl-lineage .forked-from a"),
		chromedp.Poll[chromedp.Void](`document.getElementById("tl-title").textContent === "demo-web-support"`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitVisible("#tl-lineage ul.forks a")); err != nil {
		t.Fatal(err)
	}
	list := run(t, ctx, chromedp.Text("#tl-lineage ul.forks"))
	if !strings.Contains(list, "web-fork") || !strings.Contains(list, "message 3") {
		t.Errorf("forks list: %q", list)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tl-lineage .forked-from").length`)); n != 0 {
		t.Errorf("the source is not a fork, but shows %d origin lines", n)
	}
	// And back to the fork by its link.
	if err := chromedp.Do(ctx, chromedp.Click("#tl-lineage ul.forks a"),
		chromedp.Poll[chromedp.Void](`document.getElementById("tl-title").textContent === "web-fork"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal(err)
	}
}
