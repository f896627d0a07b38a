package browsertest

import (
	"encoding/json"
	"fmt"
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

// fork forks source to id through the API (as admin) and returns the
// response body.
func fork(t *testing.T, base, source, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/sessions/"+source+"/fork", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST fork %s: %s", body, resp.Status)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A session with more forks than one page lists shows the first page and
// "more…", which loads the rest; none is out of reach.
func TestViewer_ForksListPagesWithMore(t *testing.T) {
	base, _ := startServer(t)
	const n = 101 // one more than a page (LINEAGE_PAGE)
	for i := range n {
		fork(t, base, "demo-web-travel", fmt.Sprintf(`{"session_id":"travel-fork-%03d"}`, i))
	}
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-travel")
	count := `document.querySelectorAll("#tl-lineage ul.forks li").length`
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](count+` === 100`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitVisible("#tl-lineage .forks-more")); err != nil {
		t.Fatal(err)
	}
	if h := run(t, ctx, chromedp.Text("#tl-lineage h3")); h != "Forks (100+)" {
		t.Errorf("heading before more: %q", h)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#tl-lineage .forks-more"),
		chromedp.Poll[chromedp.Void](count+` === `+fmt.Sprint(n), chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitNotVisible("#tl-lineage .forks-more")); err != nil {
		t.Fatal(err)
	}
	if h := run(t, ctx, chromedp.Text("#tl-lineage h3")); h != fmt.Sprintf("Forks (%d)", n) {
		t.Errorf("heading after more: %q", h)
	}
	ids := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#tl-lineage ul.forks li .session-ref")].map(a => a.textContent)`))
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct forks listed, want %d", len(seen), n)
	}
}

// A viewer-password login opens one session: a fork's page shows where it
// came from as plain text (no link it could not follow) and no list of its
// own forks, and the viewer never asks for one (it would name other
// sessions).
func TestViewer_SessionPasswordSeesOriginAsTextAndNoForks(t *testing.T) {
	base, _ := startServer(t)
	created := fork(t, base, "demo-web-support", `{"session_id":"pw-fork","agent_id":"support-agent","message_id":3,"viewer_password":true}`)
	password, _ := created["viewer_password"].(string)
	if password == "" {
		t.Fatalf("no viewer password in %v", created)
	}
	fork(t, base, "pw-fork", `{"session_id":"pw-fork-child"}`)
	ctx := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#login-session"),
		chromedp.SendKeys("#login-session-id", "pw-fork"),
		chromedp.SendKeys("#login-password", password),
		chromedp.Click("#login-session-btn"),
		chromedp.WaitVisible("#tl-lineage .forked-from"),
		chromedp.WaitVisible("#timeline .ev"),
	); err != nil {
		t.Fatal(err)
	}
	if text := run(t, ctx, chromedp.Text("#tl-lineage .forked-from")); !strings.Contains(text, "demo-web-support") {
		t.Errorf("origin line: %q", text)
	}
	for what, js := range map[string]string{
		"links in the origin line":    `document.querySelectorAll("#tl-lineage .forked-from a").length`,
		"fork lists":                  `document.querySelectorAll("#tl-lineage ul.forks, #tl-lineage .forks-more").length`,
		"requests for a fork listing": `performance.getEntriesByType("resource").filter(e => e.name.includes("forked_from")).length`,
	} {
		if n := run(t, ctx, chromedp.Evaluate[int](js)); n != 0 {
			t.Errorf("%s: %d, want 0", what, n)
		}
	}
	if text := run(t, ctx, chromedp.Text("#tl-lineage")); strings.Contains(text, "pw-fork-child") {
		t.Errorf("the lineage names another session's fork: %q", text)
	}
}
