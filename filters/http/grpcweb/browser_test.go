package grpcweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// browserYAML: grpc_web behind a CORS policy that lets pages of any
// loopback origin call, as a browser app's would.
const browserYAML = `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: in
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                typed_per_filter_config:
                  cors:
                    allow_origin_string_match: [{safe_regex: {regex: "http://127\\.0\\.0\\.1:[0-9]+"}}]
                    allow_methods: "POST"
                    allow_headers: "content-type, x-grpc-web, x-user-agent, grpc-timeout"
                    expose_headers: "grpc-status, grpc-message"
                routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters:
            - cors: {}
            - grpc_web: {}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
`

// TestBrowserGrpcWeb runs grpc-web's own JavaScript client (the npm
// grpc-web runtime, testdata/page.js) in headless Debian chromium, served
// from another origin than sluice's so that the browser makes its CORS
// preflights: unary calls in both formats with 3,000 bytes up and 70,000
// down, a failing call whose status and message the client reports, and a
// server stream whose first message reaches the page while the server
// still holds the call.
func TestBrowserGrpcWeb(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/deps.sh installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium); under CI this fails")
	}
	lib := testenv.GrpcWebJS(t)
	svc := &service{release: make(chan struct{})}
	s := sluicetest.Start(t, fmt.Sprintf(browserYAML, serveGRPC(t, svc)))
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!doctype html><title>grpc-web</title><script type="module" src="/page.js"></script>`)
		case "/page.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, "testdata/page.js")
		case "/grpc-web.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, lib)
		case "/favicon.ico":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var mu sync.Mutex
	var console []string
	var wg sync.WaitGroup
	defer wg.Wait()
	defer chromedp.Cancel(ctx)
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
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				console = append(console, m.String())
				mu.Unlock()
			}
		}
	}()
	eval := func(js string) string {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[string]("String("+js+")"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/?target=http://"+s.Addr("l"))); err != nil {
		t.Fatal(err)
	}
	first := func() bool { return eval("window.first === true || window.done !== undefined") == "true" }
	if !poll.Until(60*time.Second, first) {
		mu.Lock()
		t.Fatalf("the stream's first message never reached the page; done=%s results=%s console=%v", eval("window.done"), eval("JSON.stringify(window.results)"), console)
	}
	if got := eval("window.done"); got != "undefined" {
		t.Fatalf("the page finished before the server released the stream: %s", got)
	}
	close(svc.release)
	if !poll.Until(30*time.Second, func() bool { return eval("window.done") != "undefined" }) {
		t.Fatal("the page did not finish")
	}
	if done := eval("window.done"); done != "ok" {
		t.Fatalf("page: %s; results %s; console %v", done, eval("JSON.stringify(window.results)"), console)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(eval("JSON.stringify(window.results)")), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"text_unary": 70000.0, "binary_unary": 70000.0,
		"text_error": "5 kein Eintrag für 100%", "binary_error": "5 kein Eintrag für 100%",
		"stream": "7,70000,1", "stream_status": 0.0,
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("%s = %#v, want %#v", k, res[k], v)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(console) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(console, "\n"))
	}
}
