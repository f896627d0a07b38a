package browsertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// contrastJS returns, for every badge and event header on the page, the
// WCAG contrast ratio of its text against its own (or the page's white)
// background.
const contrastJS = `(() => {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c; } return [255, 255, 255]; };
  const out = [];
  for (const e of document.querySelectorAll("#timeline .tag, #timeline .head, #timeline .metrics")) {
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
    out.push({ cls: e.className, text: e.textContent.slice(0, 30), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) });
  }
  return JSON.stringify(out);
})()`

func TestViewer_BadgesHaveAccessibleContrast(t *testing.T) {
	base, _ := startServer(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/sessions/demo-web-billing/feedback", strings.NewReader(`{"rating":"","comment":"meh"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("feedback: %s", resp.Status)
	}
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-billing")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#timeline .tag.none")); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Cls, Text string
		Ratio     float64
	}
	if err := json.Unmarshal([]byte(run(t, ctx, chromedp.Evaluate[string](contrastJS))), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("nothing measured")
	}
	for _, g := range got {
		if g.Ratio < 4.5 {
			t.Errorf("%q (%s): contrast %.2f:1, want at least 4.5:1 (WCAG AA)", g.Text, g.Cls, g.Ratio)
		}
	}
}

func TestViewer_RowsAreKeyboardReachableLinks(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`tr[data-session-id="demo-web-travel"] a`)); err != nil {
		t.Fatal(err)
	}
	// Focus the row's link and press Enter, as a keyboard user would.
	run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('tr[data-session-id="demo-web-travel"] a').focus(), true`))
	if err := chromedp.Do(ctx,
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible("#timeline-view"),
	); err != nil {
		t.Fatal(err)
	}
	if title := run(t, ctx, chromedp.Text("#tl-title")); title != "demo-web-travel" {
		t.Errorf("Enter on the row link opened %q", title)
	}
}
