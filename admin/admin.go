// Package admin is sluice's admin HTTP server: a live dashboard at / and
// Envoy's endpoints and output formats: /stats (histogram_buckets too), /stats/prometheus,
// /clusters, /listeners, /config_dump, /ready, /server_info, /memory,
// /certs, /runtime, /help, and the mutating ones, POST only as in Envoy:
// /healthcheck/fail|ok, /logging, /drain_listeners, /reset_counters,
// /quitquitquit.
//
// The dashboard (dashboard.go, ui/index.html) is plain SVG drawn by a small
// script in the one embedded page, not a chart library bundled from npm: the
// binary stays static and self-contained with no JavaScript build step, the
// page works with no internet access, and a few line charts need no more.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-proxy/sluice/hotrestart"
	"github.com/sluice-proxy/sluice/internal/version"
	"github.com/sluice-proxy/sluice/proxy"
	"github.com/sluice-proxy/sluice/stats"
)

// Server is the admin HTTP server of one sluice process.
type Server struct {
	srv  *proxy.Server
	http *http.Server
	ln   net.Listener
	log  *slog.Logger

	level *slog.LevelVar // /logging; nil: not adjustable
	quit  func()         // /quitquitquit; nil: not available
	dump  ConfigDumpFunc // /config_dump in Envoy's format; nil: sluice's view

	epoch      int       // hot restart epoch, for /server_info
	firstStart time.Time // the first epoch's start; zero: this process's
}

// ConfigDumpFunc renders Envoy's /config_dump (protojson of
// envoy.admin.v3.ConfigDump) for its query: ?resource=, ?mask=,
// ?include_eds. config/xds's Client.ConfigDump is one. nil bytes and no
// error mean "no Envoy form": the admin shows sluice's own view.
type ConfigDumpFunc func(resource, mask string, includeEDS bool) ([]byte, error)

// WithConfigDump makes /config_dump answer in Envoy's format through f;
// /config_dump?format=sluice still shows sluice's own config.
func WithConfigDump(f ConfigDumpFunc) Option { return func(a *Server) { a.dump = f } }

// Start binds addr and serves the admin endpoints for srv.
func Start(addr string, srv *proxy.Server, log *slog.Logger, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	a := &Server{srv: srv, ln: ln, log: log}
	for _, o := range opts {
		o(a)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		// The admin can stop the proxy, drain it and read its config.
		log.Warn("THE ADMIN INTERFACE IS REACHABLE FROM OTHER HOSTS: it can drain and stop sluice and read its config; bind it to 127.0.0.1 unless a firewall guards it",
			"address", ln.Addr().String())
	}
	a.http = &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "err", err)
		}
	}()
	log.Info("admin listening", "address", ln.Addr().String())
	return a, nil
}

// Addr returns the bound address.
func (a *Server) Addr() string { return a.ln.Addr().String() }

// Close stops the admin server.
func (a *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return a.http.Shutdown(ctx)
}

// Handler returns the admin endpoints.
func (a *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.dashboard)
	mux.HandleFunc("GET /dashboard/data", a.dashboardData)
	mux.HandleFunc("GET /stats", a.stats)
	mux.HandleFunc("GET /stats/prometheus", a.prometheus)
	mux.HandleFunc("GET /clusters", a.clusters)
	mux.HandleFunc("GET /listeners", a.listeners)
	mux.HandleFunc("GET /config_dump", a.configDump)
	mux.HandleFunc("GET /ready", a.ready)
	mux.HandleFunc("GET /server_info", a.serverInfo)
	mux.HandleFunc("GET /help", a.index)
	mux.HandleFunc("GET /memory", a.memory)
	mux.HandleFunc("GET /certs", a.certs)
	mux.HandleFunc("GET /runtime", a.runtimeLayers)
	mux.HandleFunc("GET /logging", a.logging)
	mux.HandleFunc("POST /logging", a.logging)
	mux.HandleFunc("POST /drain_listeners", a.drainListeners)
	mux.HandleFunc("POST /reset_counters", a.resetCounters)
	mux.HandleFunc("POST /quitquitquit", a.quitquitquit)
	// Go's profiler, for "where does the time go" (Envoy: /cpuprofiler).
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST /healthcheck/fail", func(w http.ResponseWriter, r *http.Request) {
		a.srv.SetHealthCheckFailed(true)
		fmt.Fprintln(w, "OK")
	})
	mux.HandleFunc("POST /healthcheck/ok", func(w http.ResponseWriter, r *http.Request) {
		a.srv.SetHealthCheckFailed(false)
		fmt.Fprintln(w, "OK")
	})
	return mux
}

var endpoints = [][2]string{
	{"/certs", "the certificates of the running config's TLS contexts"},
	{"/clusters", "upstream cluster status"},
	{"/debug/pprof/", "Go profiles (profile?seconds=N for CPU)"},
	{"/config_dump", "the running config in Envoy's format (?resource=, ?mask=, ?include_eds) when it can be written so; ?format=sluice for sluice's own"},
	{"/drain_listeners", "POST: stop accepting on every listener (?graceful: after drain_timeout)"},
	{"/", "the live dashboard (HTML)"},
	{"/dashboard/data", "the dashboard's JSON: ?page=N&q=CLUSTER_SUBSTRING"},
	{"/help", "this list"},
	{"/logging", "GET: the log level; POST ?level=debug|info|warning|error|off: change it"},
	{"/memory", "memory use (Go runtime)"},
	{"/quitquitquit", "POST: drain and exit, as on SIGTERM"},
	{"/reset_counters", "POST: set every counter to zero"},
	{"/runtime", "runtime layers (sluice has none)"},
	{"/healthcheck/fail", "POST: make /ready fail (DRAINING)"},
	{"/healthcheck/ok", "POST: make /ready pass again"},
	{"/listeners", "listener names and bound addresses"},
	{"/ready", "200 LIVE when serving, 503 otherwise"},
	{"/server_info", "version, state and uptime"},
	{"/stats", "stats: ?filter=REGEX, ?usedonly, ?format=json|prometheus, ?type=Counters|Gauges|Histograms, ?histogram_buckets=cumulative|disjoint|none"},
	{"/stats/prometheus", "stats in Prometheus text format"},
}

func (a *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "admin commands are:")
	for _, e := range endpoints {
		fmt.Fprintf(w, "  %s: %s\n", e[0], e[1])
	}
}

// statsFilter reads Envoy's /stats query parameters.
func statsFilter(r *http.Request) (stats.Filter, error) {
	q := r.URL.Query()
	f := stats.Filter{UsedOnly: q.Has("usedonly"), Type: q.Get("type"), Buckets: q.Get("histogram_buckets")}
	switch f.Buckets {
	case "", "none", "cumulative", "disjoint":
	default:
		return f, fmt.Errorf("invalid histogram_buckets %q: want cumulative, disjoint or none (detailed is not supported)", f.Buckets)
	}
	if s := q.Get("filter"); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return f, fmt.Errorf("invalid regex: %w", err)
		}
		f.Regexp = re
	}
	switch f.Type {
	case "", "All":
		f.Type = ""
	case "Counters", "Gauges", "Histograms":
	default:
		return f, fmt.Errorf("invalid type %q: want Counters, Gauges, Histograms or All", f.Type)
	}
	return f, nil
}

func (a *Server) stats(w http.ResponseWriter, r *http.Request) {
	f, err := statsFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.srv.Uptime()
	switch r.URL.Query().Get("format") {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		a.srv.Store.WriteJSON(w, f)
	case "prometheus":
		a.servePrometheus(w, r, f)
	case "", "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		a.srv.Store.WriteText(w, f)
	default:
		http.Error(w, "invalid format: want json, prometheus or text", http.StatusBadRequest)
	}
}

func (a *Server) prometheus(w http.ResponseWriter, r *http.Request) {
	f, err := statsFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.srv.Uptime()
	a.servePrometheus(w, r, f)
}

func (a *Server) servePrometheus(w http.ResponseWriter, r *http.Request, f stats.Filter) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(stats.NewCollector(a.srv.Store, f))
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

func (a *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	st := a.srv.State()
	if st != "LIVE" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, st)
}

func (a *Server) listeners(w http.ResponseWriter, r *http.Request) {
	ls := a.srv.Listeners()
	if r.URL.Query().Get("format") == "json" {
		type addr struct {
			SocketAddress struct {
				Address   string `json:"address"`
				PortValue string `json:"port_value"`
			} `json:"socket_address"`
		}
		type entry struct {
			Name        string `json:"name"`
			LocalAddr   addr   `json:"local_address"`
			Connections int    `json:"active_connections"`
		}
		out := struct {
			ListenerStatuses []entry `json:"listener_statuses"`
		}{ListenerStatuses: []entry{}}
		for _, l := range ls {
			e := entry{Name: l.Name, Connections: l.Connections}
			e.LocalAddr.SocketAddress.Address, e.LocalAddr.SocketAddress.PortValue, _ = net.SplitHostPort(l.Address)
			out.ListenerStatuses = append(out.ListenerStatuses, e)
		}
		writeJSON(w, out)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, l := range ls {
		fmt.Fprintf(w, "%s::%s\n", l.Name, l.Address)
	}
}

// configDump is Envoy's format when the config came from an Envoy
// bootstrap (WithConfigDump), else, and with ?format=sluice, sluice's own
// config as {"configs": [config]}.
func (a *Server) configDump(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if a.dump == nil || q.Get("format") == "sluice" {
		writeJSON(w, map[string]any{"configs": []any{a.srv.Config()}})
		return
	}
	_, eds := q["include_eds"]
	b, err := a.dump(q.Get("resource"), q.Get("mask"), eds)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if b == nil {
		writeJSON(w, map[string]any{"configs": []any{a.srv.Config()}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (a *Server) serverInfo(w http.ResponseWriter, r *http.Request) {
	up := int64(a.srv.Uptime().Seconds())
	all := up
	if !a.firstStart.IsZero() {
		all = int64(time.Since(a.firstStart).Seconds())
	}
	writeJSON(w, map[string]any{
		"version": version.String(), "state": a.srv.State(), "hot_restart_version": hotrestart.Version,
		"uptime_current_epoch": fmt.Sprintf("%ds", up), "uptime_all_epochs": fmt.Sprintf("%ds", all),
		"command_line_options": map[string]any{"args": os.Args, "restart_epoch": a.epoch},
		"listeners":            len(a.srv.Listeners()),
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
