package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// headless starts Debian's chromium with a phone's viewport (390×844 CSS
// pixels at 2×, touch), or skips when chromium is not installed — except
// under CI, whose .ci/run installs it.
func headless(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// A person on a phone opens the note's link in a real browser, signs in
// through the emulated Slack, reads the hypothesis and its evidence, and
// approves the proposed rollback through the confirmation step: the
// executor runs once and PagerDuty gets the status note.
// The first screen's screenshot goes to $NOVA_WEB_SCREENSHOT when set (the
// README's is made so), the whole page's beside it (-full.png).
func TestBrowserIncidentPageOnAPhone(t *testing.T) {
	ctx := headless(t)
	h := newHarness(t, harnessOptions{Web: true})
	in := h.start()
	inc, _ := h.proposeRollback("v5.0.0-phone")
	link := h.noteLink(inc)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.sl.SignInURL("U0ALICE")),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	url := inBrowser(t, ctx, chromedp.Location())
	heading := inBrowser(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	hypothesis := inBrowser(t, ctx, chromedp.Text(chromedp.CSS(".summary")))
	evidence := inBrowser(t, ctx, chromedp.Text(chromedp.CSS("ul.evidence")))
	width := inBrowser(t, ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	shot := inBrowser(t, ctx, chromedp.CaptureScreenshot())
	if url != in.url+"/incidents/"+inc {
		t.Fatalf("the note's link ended at %s", url)
	}
	if !strings.Contains(heading, "v5.0.0-phone") || !strings.Contains(hypothesis, "Deploy checkout v5.0.0-phone") ||
		!strings.Contains(evidence, "HTTP 5xx error rate 9%") {
		t.Errorf("page shows heading %q, hypothesis %q, evidence %q", heading, hypothesis, evidence)
	}
	if width > 390 {
		t.Errorf("the page is %d CSS pixels wide on a 390-pixel phone: it scrolls sideways", width)
	}
	if p := os.Getenv("NOVA_WEB_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		full := inBrowser(t, ctx, chromedp.FullScreenshot(100))
		if err := os.WriteFile(strings.TrimSuffix(p, ".png")+"-full.png", full, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %d bytes", len(shot))

	// Approve the rollback with a finger: Approve…, then the confirmation.
	rollback := inBrowser(t, ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('a[href*="/suggestions/"]')].find(a => a.textContent.includes('Roll back')).href`))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(rollback),
		chromedp.WaitVisible(chromedp.CSS("#approve")),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-approve")),
	); err != nil {
		t.Fatalf("browser approval: %v", err)
	}
	if p := os.Getenv("NOVA_WEB_SCREENSHOT"); p != "" {
		if err := os.WriteFile(strings.TrimSuffix(p, ".png")+"-confirm.png", inBrowser(t, ctx, chromedp.FullScreenshot(100)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#confirm-approve")),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	); err != nil {
		t.Fatalf("browser approval: %v", err)
	}
	if notice := inBrowser(t, ctx, chromedp.Text(chromedp.CSS(`p.notice[role="status"]`))); !strings.Contains(notice, "Approved") {
		t.Errorf("after approving, the page says %q", notice)
	}
	h.eventually(15*time.Second, "the run", func() bool { return len(h.receiver.Runs()) == 1 })
	h.eventually(10*time.Second, "the status note", func() bool {
		for _, n := range h.novaNotes(inc) {
			if strings.Contains(n.Content, "catalog action rollback") && strings.Contains(n.Content, "Approved by: U0ALICE") {
				return true
			}
		}
		return false
	})
}

// inBrowser runs one browser action and returns its value.
func inBrowser[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}
