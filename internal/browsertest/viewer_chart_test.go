package browsertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestViewer_ChartHasOnePointPerModelCall(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-support")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#tl-charts svg.chart")); err != nil {
		t.Fatal(err)
	}
	// demo-web-support has five model calls (messages 1, 3, 5, 7, 9), the
	// first of which called lookup_order.
	raw := run(t, ctx, chromedp.Evaluate[string](`JSON.stringify({
		points: document.querySelectorAll("#tl-charts .pt-latency").length,
		inBars: document.querySelectorAll("#tl-charts .bar.in").length,
		outBars: document.querySelectorAll("#tl-charts .bar.out").length,
		tools: document.querySelectorAll("#tl-charts .tool-mark").length,
	})`))
	var counts map[string]int
	if err := json.Unmarshal([]byte(raw), &counts); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"points": 5, "inBars": 5, "outBars": 5, "tools": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %d, want %d", k, counts[k], v)
		}
	}
	label := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#tl-charts .tool-name").textContent`))
	if label != "lookup_order" {
		t.Errorf("tool strip label %q", label)
	}
}

func TestViewer_ReasoningIsCollapsed(t *testing.T) {
	base, _ := startServer(t)
	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/api/sessions", `{"session_id":"thinker"}`)
	post("/api/sessions/thinker/agents", `{"agent_id":"a"}`)
	post("/api/sessions/thinker/agents/a/messages", `{"message":{"role":"assistant","content":[
		{"reasoningContent":{"reasoningText":{"text":"secret chain of thought","signature":"sig"}}},{"text":"The answer is 4."}]}}`)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/thinker")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#timeline details.reasoning")); err != nil {
		t.Fatal(err)
	}
	timeline := run(t, ctx, chromedp.Text("#timeline"))
	if !strings.Contains(timeline, "The answer is 4.") || !strings.Contains(timeline, "REASONING") {
		t.Errorf("timeline %q", timeline)
	}
	if strings.Contains(timeline, "secret chain of thought") {
		t.Errorf("reasoning is shown expanded")
	}
	if err := chromedp.Do(ctx, chromedp.Click("#timeline details.reasoning summary")); err != nil {
		t.Fatal(err)
	}
	if timeline = run(t, ctx, chromedp.Text("#timeline")); !strings.Contains(timeline, "secret chain of thought") {
		t.Errorf("reasoning does not expand")
	}
}
