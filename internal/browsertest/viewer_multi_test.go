package browsertest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A session's multi-agent orchestrators get their own panel: one entry per
// orchestrator with its status; a session without any shows no panel.
func TestViewer_MultiAgentPanel(t *testing.T) {
	base, _ := startServer(t)
	for _, body := range []string{
		`{"multi_agent_id":"default_graph","state":{"status":"executing","completed_nodes":["research"]}}`,
		`{"multi_agent_id":"swarm","state":{"status":"completed"}}`,
	} {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/sessions/demo-web-travel/multi_agents", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST multi_agents: %s", resp.Status)
		}
	}
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-travel")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#tl-multi details.multi-agent")); err != nil {
		t.Fatal(err)
	}
	n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tl-multi details.multi-agent").length`))
	text := run(t, ctx, chromedp.Text("#tl-multi"))
	if n != 2 || !strings.Contains(text, "default_graph") || !strings.Contains(text, "executing") || !strings.Contains(text, `"research"`) {
		t.Errorf("panel has %d entries: %q", n, text)
	}
	// Another session, without orchestrators: the panel goes away.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/sessions/demo-web-billing"),
		chromedp.WaitVisible("#tl-charts"),
		chromedp.Poll[chromedp.Void](`document.getElementById("tl-title").textContent === "demo-web-billing" && document.getElementById("tl-multi").hidden`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal(err)
	}
}
