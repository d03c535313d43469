package report

// Browser tests: the report opened in the system's headless Chromium over
// the DevTools protocol (chromedp). They skip when /usr/bin/chromium is
// missing, unless ORIGIN_AGENT_E2E=1 (CI), where they must run. Set
// ORIGIN_AGENT_SCREENSHOTS=DIR to keep the screenshots they take.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/origin-agent/origin-agent/agent/analyze"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

const chromiumPath = "/usr/bin/chromium"

type browser struct{ ctx context.Context }

// newBrowser starts a headless Chromium that uses no network service of
// its own (no updates, sync or background fetches) and a fresh profile.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	testenv.Require(t, testenv.Command(chromiumPath, "chromium"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(ctx)
	t.Cleanup(cancelCtx)
	return &browser{ctx: ctx}
}

// pageRun is one loaded page and what it did while loading.
type pageRun struct {
	ctx      context.Context
	url      string
	loadWall time.Duration // Navigate until the load event
	loadMS   float64       // the page's own navigation timing (loadEventEnd)

	mu       sync.Mutex
	console  []string // console errors, exceptions, browser log errors
	requests []string // URLs the page requested
	dialogs  []string
}

// open loads the file and waits for its load event.
func (b *browser) open(t *testing.T, path string) *pageRun {
	t.Helper()
	p := &pageRun{ctx: b.ctx, url: "file://" + path}
	err := chromedp.Listen(b.ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				p.console = append(p.console, fmt.Sprintf("console.%s %v", ev.Type, ev.Args))
			}
		case *runtime.EventExceptionThrown:
			p.console = append(p.console, fmt.Sprintf("exception: %s (%s:%d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p.console = append(p.console, "browser log: "+ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, ev.Request.URL)
		case *page.EventJavascriptDialogOpening:
			p.dialogs = append(p.dialogs, string(ev.Type)+": "+ev.Message)
			go chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	if err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	start := time.Now()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(p.url)); err != nil {
		t.Fatalf("open %s: %v", p.url, err)
	}
	p.loadWall = time.Since(start)
	p.loadMS = p.eval(t, `performance.getEntriesByType("navigation")[0].loadEventEnd`).(float64)
	return p
}

// eval runs a script in the page and returns its JSON-decoded value.
func (p *pageRun) eval(t *testing.T, js string) any {
	t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// assertClean checks that the page logged no error, opened no dialog and
// requested nothing but itself.
func (p *pageRun) assertClean(t *testing.T) {
	t.Helper()
	p.eval(t, `1`) // a round trip, so that events sent before it have arrived
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.console {
		t.Errorf("console: %s", c)
	}
	for _, d := range p.dialogs {
		t.Errorf("dialog opened: %s", d)
	}
	for _, u := range p.requests {
		if u != p.url {
			t.Errorf("page requested %s", u)
		}
	}
	if len(p.requests) == 0 {
		t.Error("no request seen at all: is the network domain enabled?")
	}
}

func (p *pageRun) screenshot(t *testing.T, name string, sel string) []byte {
	t.Helper()
	var img []byte
	var err error
	if sel == "" {
		img, err = chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	} else {
		img, err = chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("ORIGIN_AGENT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return img
}

// inkShare is the share of pixels that differ clearly from the most common
// colour (the background).
func inkShare(t *testing.T, pngData []byte) float64 {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	type rgb struct{ r, g, b uint32 }
	at := func(x, y int) rgb {
		r, g, b, _ := img.At(x, y).RGBA()
		return rgb{r >> 8, g >> 8, b >> 8}
	}
	hist := map[rgb]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			hist[at(x, y)]++
		}
	}
	var bg rgb
	for c, n := range hist {
		if n > hist[bg] {
			bg = c
		}
	}
	diff := func(a, b uint32) uint32 {
		if a > b {
			return a - b
		}
		return b - a
	}
	ink := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := at(x, y)
			if diff(c.r, bg.r)+diff(c.g, bg.g)+diff(c.b, bg.b) > 40 {
				ink++
			}
		}
	}
	return float64(ink) / float64(bounds.Dx()*bounds.Dy())
}

func writeReport(t *testing.T, res *analyze.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := AnalysisHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBrowserExamplesReport(t *testing.T) {
	b := newBrowser(t)
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{"../../examples"}})
	if err != nil {
		t.Fatal(err)
	}
	pg := b.open(t, writeReport(t, res))
	t.Logf("examples report loaded in %v (%.0f ms by navigation timing)", pg.loadWall, pg.loadMS)

	// One card per incident, with its cause and times, in order.
	var want []string
	for _, c := range res.Cases {
		for _, inc := range c.Incidents {
			want = append(want, string(inc.Cause)+" "+inc.Start.Format(time.RFC3339Nano)+" "+inc.End.Format(time.RFC3339Nano))
		}
	}
	got := pg.eval(t, `Array.from(document.querySelectorAll("[data-cause]"), e => e.dataset.cause + " " + e.dataset.start + " " + e.dataset.end)`).([]any)
	if len(got) != len(want) {
		t.Fatalf("%d elements with data-cause, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("card %d: %v, want %s", i, got[i], want[i])
		}
	}

	// Every case's timeline has drawn bars of non-zero height, and as many
	// incident bands as incidents.
	drawn := pg.eval(t, `Array.from(document.querySelectorAll("svg.tl"), s => [
		Array.from(s.querySelectorAll(".bar rect")).filter(r => r.getBBox().height > 0 && r.getBoundingClientRect().width > 0).length,
		s.querySelectorAll(".band").length])`).([]any)
	if len(drawn) != len(res.Cases) {
		t.Fatalf("%d timelines for %d cases", len(drawn), len(res.Cases))
	}
	for i, d := range drawn {
		d := d.([]any)
		if d[0].(float64) < 3 {
			t.Errorf("case %s: %v visible bars", res.Cases[i].Name, d[0])
		}
		if int(d[1].(float64)) != len(res.Cases[i].Incidents) {
			t.Errorf("case %s: %v bands for %d incidents", res.Cases[i].Name, d[1], len(res.Cases[i].Incidents))
		}
	}
	if share := inkShare(t, pg.screenshot(t, "timeline.png", "figure.timeline")); share < 0.05 {
		t.Errorf("timeline screenshot is %.1f%% ink: nothing drawn?", share*100)
	}
	pg.screenshot(t, "examples-light.png", "")

	// Dark mode: the page background turns dark, the text light.
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	colors := pg.eval(t, `[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).color]`).([]any)
	if colors[0] != "rgb(17, 20, 24)" || colors[1] != "rgb(230, 233, 239)" {
		t.Errorf("dark mode colours %v", colors)
	}
	pg.screenshot(t, "examples-dark.png", "")
	pg.assertClean(t)
}

func TestBrowserHostileEvidence(t *testing.T) {
	b := newBrowser(t)
	pg := b.open(t, writeReport(t, hostileResult()))
	pg.assertClean(t)
	text := pg.eval(t, `document.querySelector("[data-cause]").textContent`).(string)
	for _, want := range []string{xssScript, xssImg} {
		if !strings.Contains(text, want) {
			t.Errorf("card text lacks %q:\n%s", want, text)
		}
	}
	counts := pg.eval(t, `[document.scripts.length, document.images.length, document.querySelectorAll("[onerror]").length]`).([]any)
	for i, what := range []string{"scripts", "images", "onerror attributes"} {
		if counts[i].(float64) != 0 {
			t.Errorf("page has %v %s", counts[i], what)
		}
	}
	// The marker's hover title carries the hostile text as text.
	title := pg.eval(t, `document.querySelector("svg.tl .mk title").textContent`).(string)
	if !strings.Contains(title, xssScript) {
		t.Errorf("marker title %q", title)
	}
	pg.screenshot(t, "hostile.png", "")
}
