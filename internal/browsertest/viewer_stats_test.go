package browsertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
)

// The search page draws one chart per application over the default 30
// days: one session bar and one guardrail point per day, and a feedback
// ratio point only on days with feedback. The demo wrote everything today:
// customer-support-bot 2 sessions, 1 up, 1 down, 1 intervention;
// travel-planner 1 session, 1 up.
func TestViewer_SearchPageChartsActivityPerApplication(t *testing.T) {
	base, _ := startServer(t)
	ctx := browser(t)
	loginAdmin(t, ctx, base+"/#/sessions")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#stats-charts svg.stats[data-application="`+demo.AppTravel+`"]`)); err != nil {
		t.Fatal(err)
	}
	raw := run(t, ctx, chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll("#stats-charts svg.stats")].map((s) => ({
		app: s.dataset.application,
		days: +s.dataset.days,
		bars: s.querySelectorAll(".bar.sessions").length,
		guardrail: s.querySelectorAll(".pt-guardrail").length,
		ratio: s.querySelectorAll(".pt-ratio").length,
		label: s.getAttribute("aria-label"),
		last: s.querySelectorAll(".bar.sessions")[s.querySelectorAll(".bar.sessions").length - 1].textContent,
	})))`))
	type chart struct {
		App                          string
		Days, Bars, Guardrail, Ratio int
		Label, Last                  string
	}
	var got []chart
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		app, label string
		ratio      int
	}{
		{demo.AppSupport, demo.AppSupport + ": 2 sessions, 1 up, 1 down, 1 guardrail interventions", 1},
		{demo.AppTravel, demo.AppTravel + ": 1 sessions, 1 up, 0 down, 0 guardrail interventions", 1},
	}
	if len(got) != len(want) {
		t.Fatalf("charts %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.App != w.app || g.Days != 30 || g.Bars != 30 || g.Guardrail != 30 || g.Ratio != w.ratio || g.Label != w.label {
			t.Errorf("chart %d = %+v, want %s with 30 days, bars and guardrail points, %d ratio point, label %q", i, g, w.app, w.ratio, w.label)
		}
	}
	shot := run(t, ctx, chromedp.FullScreenshot(90))
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "viewer-search-charts.jpg"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	// An application filter narrows the charts to it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/sessions?application="+demo.AppTravel),
		chromedp.WaitVisible(`#stats-charts svg.stats`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll("#stats-charts svg.stats").length === 1 &&
		document.querySelector("#stats-charts svg.stats").dataset.application === "`+demo.AppTravel+`"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatal(err)
	}
}
