package admin_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// browser is a headless Debian chromium driven over the DevTools protocol,
// with every console error, warning and uncaught exception of its page
// recorded.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

// newBrowser starts chromium; without it the test skips, unless CI is set.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/deps.sh installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium); under CI this fails")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
		wg.Wait()
	})
	// The first run starts the browser; it must have no timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				b.mu.Lock()
				b.errs = append(b.errs, m.String()+" "+m.URL)
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// noErrors fails the test on any console error or exception so far.
func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) > 0 {
		t.Fatalf("browser console errors:\n%s", strings.Join(b.errs, "\n"))
	}
}

func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval returns a JavaScript expression's value as a string.
func (b *browser) eval(t *testing.T, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("String("+js+")"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserDashboard loads the dashboard in chromium with 502 clusters:
// no console error; the listener's connection count and chart move while
// connections flow; redis_proxy's command counters get a panel and its
// latency recent percentiles; the page lists 25 clusters a page and pages on; a host
// killed under a TCP health check shows failed_active_hc within a few
// check intervals; the DOM stays small.
func TestBrowserDashboard(t *testing.T) {
	b := newBrowser(t)
	echo := testenv.Echo(t)
	const interval = 500 * time.Millisecond
	rs := testenv.Redis(t)
	s := sluicetest.Start(t, dashConfig(echo.Addr(), rs.Addr(), interval, 500))
	b.do(t, chromedp.Navigate("http://"+s.Admin.Addr()+"/?interval=200"))
	updates := func() int {
		n, _ := strconv.Atoi(b.eval(t, `document.getElementById("updates").textContent`))
		return n
	}
	poll.Eventually(t, 20*time.Second, func() bool { return updates() >= 2 }, "the page polling")
	b.noErrors(t)
	if got := b.eval(t, `document.getElementById("cluster-summary").textContent`); !strings.HasPrefix(got, "502 clusters, 502 hosts") {
		t.Fatalf("cluster summary %q", got)
	}
	if n := b.eval(t, `document.querySelectorAll("#clusters tbody tr").length`); n != "25" {
		t.Fatalf("%s cluster rows, want 25", n)
	}
	if n, _ := strconv.Atoi(b.eval(t, `document.getElementsByTagName("*").length`)); n > 2000 {
		t.Fatalf("%d DOM elements at 501 clusters", n)
	}

	// Traffic moves the listener's count, its chart and tcp_proxy's panel.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	wg.Add(1)
	go func() { // redis_proxy's own figures: its command counters
		defer wg.Done()
		rc := redis.NewClient(&redis.Options{Addr: s.Addr("cache")})
		defer rc.Close()
		for ctx.Err() == nil {
			rc.Set(ctx, "k", "v", 0)
			rc.Get(ctx, "k")
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if c, err := net.Dial("tcp", s.Addr("front")); err == nil {
				fmt.Fprintln(c, "x")
				c.Read(make([]byte, 2))
				c.Close()
			}
		}
	}()
	total := func() string {
		return b.eval(t, `(document.querySelector('tr[data-listener="front"] td.cx-total') || {}).textContent`)
	}
	points := func() string {
		return b.eval(t, `(document.querySelector('#chart-listeners polyline') || {getAttribute: function () { return "" }}).getAttribute("points")`)
	}
	first, firstPoints := total(), points()
	poll.Eventually(t, 20*time.Second, func() bool { return total() != first && points() != firstPoints }, "the connection count and chart moving")
	poll.Eventually(t, 20*time.Second, func() bool {
		return b.eval(t, `document.querySelectorAll('section[data-prefix="tcp.front"] polyline').length`) != "0"
	}, "a tcp.front panel with a series")
	poll.Eventually(t, 20*time.Second, func() bool {
		return strings.Contains(b.eval(t, `(document.querySelector('section[data-prefix="redis.dash"] .legend') || {}).textContent`), "command.get.total")
	}, "a redis.dash panel charting command.get.total")
	poll.Eventually(t, 20*time.Second, func() bool {
		n, _ := strconv.Atoi(b.eval(t, `(document.querySelector('tr[data-histogram^="redis.dash."] td:nth-child(2)') || {}).textContent`))
		return n > 0
	}, "redis_proxy latency percentiles over the recent samples")
	stop()
	wg.Wait()

	// Paging.
	b.do(t, chromedp.Click(chromedp.CSS("#next")))
	poll.Eventually(t, 10*time.Second, func() bool {
		return b.eval(t, `document.querySelector("#clusters tbody tr").getAttribute("data-cluster")`) == "c025"
	}, "page 2 starting at c025")

	// A host killed under a health check turns to failed.
	b.do(t, chromedp.SendKeys(chromedp.CSS("#cluster-q"), "echo"))
	flags := func() string {
		return b.eval(t, `(document.querySelector('span[data-host="`+echo.Addr()+`"]') || {getAttribute: function () { return "" }}).getAttribute("data-flags")`)
	}
	poll.Eventually(t, 10*time.Second, func() bool { return flags() == "healthy" }, "the echo host healthy")
	echo.Kill()
	// One check interval, its timeout, a page poll, and slack for a loaded machine.
	poll.Eventually(t, 2*interval+2*time.Second, func() bool { return strings.Contains(flags(), "failed_active_hc") },
		"the killed host shown failed_active_hc")
	b.noErrors(t)
}
