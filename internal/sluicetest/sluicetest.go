// Package sluicetest runs sluice in-process for tests: a config string in, a
// running server (listeners, clusters, admin) out, cleaned up with the test.
package sluicetest

import (
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/admin"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
	_ "github.com/sluice-proxy/sluice/filters/all" // every filter, as in the binary
	"github.com/sluice-proxy/sluice/proxy"
	"github.com/sluice-proxy/sluice/stats"
)

// Sluice is a running in-process sluice.
type Sluice struct {
	t      testing.TB
	Server *proxy.Server
	Admin  *admin.Server
	Store  *stats.Store
	// File is where the current config was written (for Reload tests).
	File string
}

// Start parses yaml (listeners may use port 0; find them with Addr), starts the
// server and an admin server on a free port, and stops both at test end.
func Start(t testing.TB, yaml string) *Sluice {
	t.Helper()
	return StartWith(t, yaml)
}

// StartWith is Start with server options (proxy.IOLoops, proxy.Filters:
// the config is parsed by the server, so it knows the server's own filters).
func StartWith(t testing.TB, yaml string, opts ...proxy.Option) *Sluice {
	t.Helper()
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return start(t, file, nil, opts...)
}

// StartEnvoy is Start for an Envoy v3 bootstrap (config/envoy): it fails
// the test on an error, logs the warnings (fields accepted and ignored),
// and reloads (Reload) read Envoy's format too. The bootstrap's admin address
// is ignored: the admin server listens on a free port.
func StartEnvoy(t testing.TB, bootstrap string, opts ...proxy.Option) *Sluice {
	t.Helper()
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(file, []byte(bootstrap), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, warns, err := envoy.Load(file)
	if err != nil {
		t.Fatalf("envoy config: %v", err)
	}
	for _, w := range warns {
		t.Logf("envoy config: %s", w)
	}
	parse, _ := envoy.Parser("envoy", nil)
	return start(t, file, cfg, append(opts, proxy.ConfigParser(parse))...)
}

func start(t testing.TB, file string, cfg *config.Config, opts ...proxy.Option) *Sluice {
	t.Helper()
	level := slog.LevelWarn
	if os.Getenv("SLUICE_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	store := stats.New()
	srv := proxy.New(store, log, opts...)
	if cfg == nil {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if cfg, err = srv.ParseConfig(file, data); err != nil {
			srv.Shutdown()
			t.Fatalf("config: %v", err)
		}
	}
	if err := srv.Apply(cfg); err != nil {
		t.Fatalf("apply: %v", err)
	}
	adm, err := admin.Start("127.0.0.1:0", srv, log)
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	s := &Sluice{t: t, Server: srv, Admin: adm, Store: store, File: file}
	t.Cleanup(func() {
		adm.Close()
		srv.Shutdown()
	})
	return s
}

// testWriter sends logs to t.Log, so they show only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// Addr returns the bound address of the named listener; it fails the test
// when there is none.
func (s *Sluice) Addr(listener string) string {
	s.t.Helper()
	a := s.Server.ListenerAddr(listener)
	if a == "" {
		s.t.Fatalf("no listener %q", listener)
	}
	return a
}

// Counter returns a counter's value (0 when it does not exist yet).
func (s *Sluice) Counter(name string) uint64 {
	v, _ := s.Store.CounterValue(name)
	return v
}

// Gauge returns a gauge's value (0 when it does not exist yet).
func (s *Sluice) Gauge(name string) int64 {
	v, _ := s.Store.GaugeValue(name)
	return v
}

// WaitCounter polls until the counter reaches want or the timeout passes.
func (s *Sluice) WaitCounter(name string, want uint64, timeout time.Duration) {
	s.t.Helper()
	poll.Eventually(s.t, timeout, func() bool { return s.Counter(name) >= want },
		"counter %s: want >= %d, have %d", name, want, func() any { return s.Counter(name) })
}

// WaitGauge polls until the gauge equals want or the timeout passes.
func (s *Sluice) WaitGauge(name string, want int64, timeout time.Duration) {
	s.t.Helper()
	poll.Eventually(s.t, timeout, func() bool { return s.Gauge(name) == want },
		"gauge %s: want %d, have %d", name, want, func() any { return s.Gauge(name) })
}

// Reload writes yaml over the config file and reloads it, as SIGHUP does.
func (s *Sluice) Reload(yaml string) error {
	if err := os.WriteFile(s.File, []byte(yaml), 0o644); err != nil {
		return err
	}
	return s.Server.Reload(s.File)
}

// AdminGet fetches an admin path ("/stats?usedonly") and returns status and body.
func (s *Sluice) AdminGet(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.Admin.Addr() + path)
	if err != nil {
		s.t.Fatalf("admin GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// AdminPost posts to an admin path and returns status and body.
func (s *Sluice) AdminPost(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Post("http://"+s.Admin.Addr()+path, "text/plain", nil)
	if err != nil {
		s.t.Fatalf("admin POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
