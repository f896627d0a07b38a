package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// loginAdmin opens the viewer at path (a deep link or the root) and logs in
// with the admin token.
func loginAdmin(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#login-admin"),
		chromedp.SendKeys("#admin-token", adminToken),
		chromedp.Click("#login-admin-btn"),
	); err != nil {
		t.Fatal(err)
	}
}

func TestViewer_ToolArgumentsAreReadableJSON(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-support")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(".ev.feedback")); err != nil {
		t.Fatal(err)
	}
	timeline := run(t, ctx, chromedp.Text("#timeline"))
	for _, want := range []string{`"order_id": "A-1001"`, "charged twice on 2026-05-01", "Assistant", "User", "Tool result"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if strings.Contains(timeline, "[object Object]") {
		t.Errorf("tool arguments rendered as [object Object]")
	}
	// Tool usage is per turn: lookup_order ran in the first invocation only.
	if n := strings.Count(timeline, "lookup_order ×1"); n != 1 {
		t.Errorf("tool usage shown %d times, want once (per turn, not cumulative)", n)
	}
	// Times are local with the UTC instant on hover.
	title := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#timeline time").title`))
	if !strings.HasSuffix(title, " UTC") {
		t.Errorf("time tooltip %q is not the UTC instant", title)
	}
}

func TestViewer_ShowsImagesAndDocuments(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions/demo-web-billing")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#timeline img.thumb")); err != nil {
		t.Fatal(err)
	}
	// naturalWidth is 0 until the browser has decoded the image: poll for it.
	width := run(t, ctx, chromedp.Evaluate[int](`new Promise((ok) => { const i = document.querySelector("#timeline img.thumb");
		const done = () => ok(i.naturalWidth); if (i.complete) done(); else { i.onload = done; i.onerror = done; } })`,
		chromedp.EvalAwaitPromise))
	if width != 96 {
		t.Errorf("receipt image not rendered: naturalWidth %d, want 96", width)
	}
	timeline := run(t, ctx, chromedp.Text("#timeline"))
	if !strings.Contains(timeline, "invoice-A-1001.pdf") {
		t.Errorf("document not listed by name: %q", timeline)
	}
	shot := run(t, ctx, chromedp.FullScreenshot(90))
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "viewer-billing.jpg"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestViewer_DeepLinkReloadAndBack(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/")
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`tr[data-session-id]`),
		chromedp.SendKeys("#f-app", "customer-support-bot"),
		chromedp.Click("#search-btn"),
		chromedp.WaitNotPresent(`tr[data-session-id="demo-web-travel"]`),
		chromedp.WaitVisible(`tr[data-session-id="demo-web-support"] a`),
	); err != nil {
		t.Fatal(err)
	}
	searchURL := run(t, ctx, chromedp.Location())
	if !strings.Contains(searchURL, "#/sessions?application=customer-support-bot") {
		t.Errorf("search filters not in the URL: %s", searchURL)
	}
	href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('tr[data-session-id="demo-web-support"] a').getAttribute("href")`))
	if href != "#/sessions/demo-web-support" {
		t.Errorf("row link %q", href)
	}
	// Open the session, reload: the same timeline comes back.
	if err := chromedp.Do(ctx,
		chromedp.Click(`tr[data-session-id="demo-web-support"] a`),
		chromedp.WaitVisible(".ev.feedback"),
		chromedp.Reload(),
		chromedp.WaitVisible(".ev.feedback"),
	); err != nil {
		t.Fatal(err)
	}
	title := run(t, ctx, chromedp.Text("#tl-title"))
	loc := run(t, ctx, chromedp.Location())
	if title != "demo-web-support" || !strings.HasSuffix(loc, "#/sessions/demo-web-support") {
		t.Errorf("after reload: title %q at %s", title, loc)
	}
	// Browser Back returns to the filtered search, filters filled in.
	run(t, ctx, chromedp.Evaluate[bool](`history.back(), true`))
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible("#search-view"),
		chromedp.WaitVisible(`tr[data-session-id="demo-web-support"]`),
	); err != nil {
		t.Fatal(err)
	}
	app := run(t, ctx, chromedp.Value("#f-app"))
	rows := run(t, ctx, chromedp.Text("#results tbody"))
	if app != "customer-support-bot" || strings.Contains(rows, "demo-web-travel") {
		t.Errorf("Back did not return to the filtered search: filter %q, rows %q", app, rows)
	}
}
