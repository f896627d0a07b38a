// Package browsertest drives the session viewer in a real headless Chromium
// with chromedp. It is a nested module so that chromedp stays out of the
// root go.mod; run it with
//
//	cd internal/browsertest && go test ./...
//
// Screenshots go to $SESSIONKIT_ARTIFACTS_DIR when set.
package browsertest
