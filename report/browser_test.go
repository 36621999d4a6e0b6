package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium to drive, or "" (the test is skipped then).
func chromiumPath() string {
	for _, p := range []string{os.Getenv("FIX8524_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// TestBrowserOpensReport opens the demo's report in headless Chromium over the DevTools
// protocol: the page loads with no console error (a CSP refusal of the page's own style or
// script would be one), requests nothing from the network, runs its script (the filter bar
// shows) and has its style (the header is coloured); a screenshot goes to a temporary directory,
// or to $FIX8524_REPORT_DIR when set (CI keeps it as an artifact).
func TestBrowserOpensReport(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("no Chromium (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	out, err := HTML(Input{Plan: scenarioPlan(t, "source-cname-missing"), PlanFile: "plan.json", Approval: &Approval{Status: ApprovalMissing}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, out, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var problems, requests []string
	url := "file://" + page
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, "console "+string(ev.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, "log "+string(ev.Entry.Level)+": "+ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if ev.Request.URL != url {
				requests = append(requests, ev.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitReady("body"), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	toolsHidden, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("tools").hidden`))
	if err != nil {
		t.Fatal(err)
	}
	headerBG, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).backgroundImage`))
	if err != nil {
		t.Fatal(err)
	}
	arrows, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.topo path.e-fail").length`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	art := dir
	if d := os.Getenv("FIX8524_REPORT_DIR"); d != "" {
		art = d
		if err := os.MkdirAll(art, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(art, "report-demo.jpg"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", filepath.Join(art, "report-demo.jpg"), len(shot))
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console problems: %s", strings.Join(problems, "; "))
	}
	if len(requests) > 0 {
		t.Errorf("the page requested %s", strings.Join(requests, ", "))
	}
	if toolsHidden {
		t.Error("the filter bar is still hidden: the page's script did not run (CSP hash?)")
	}
	if !strings.Contains(headerBG, "gradient") {
		t.Errorf("header background %q: the page's style did not apply (CSP hash?)", headerBG)
	}
	if arrows != 1 {
		t.Errorf("%d red arrows drawn, want 1", arrows)
	}
	if len(shot) < 10000 {
		t.Errorf("screenshot of %d bytes", len(shot))
	}
}
