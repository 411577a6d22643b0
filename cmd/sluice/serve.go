package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/sluice-proxy/sluice/admin"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/config/xds"
	"github.com/sluice-proxy/sluice/internal/version"
	"github.com/sluice-proxy/sluice/proxy"
	"github.com/sluice-proxy/sluice/stats"
)

// serve runs file until SIGTERM or SIGINT. SIGHUP reloads the file at once;
// the watcher (every watch, 0: none) reloads it once a new content has
// stopped changing.
func serve(file, format string, watch time.Duration, ioLoops int, node nodeFlags, log *slog.Logger, lv *slog.LevelVar, stderr io.Writer) int {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	parse, err := envoy.Parser(format, func(file, msg string) { log.Warn(msg, "file", file) })
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	cfg, err := parse(file, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv := proxy.New(stats.New(), log, proxy.IOLoops(ioLoops), proxy.ConfigParser(parse))
	if err := srv.Apply(cfg); err != nil {
		var errs *config.Errors
		if !errors.As(err, &errs) {
			err = fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	es, err := startEnvoySource(file, data, format, srv, log, node)
	if err != nil {
		fmt.Fprintln(stderr, err)
		srv.Shutdown()
		return 1
	}
	dynamic := es != nil && es.dynamic
	if es != nil {
		defer es.stop()
	}
	if dynamic {
		// Envoy does not reload its bootstrap either: the static part would
		// replace what the control plane sent.
		watch = 0
	}
	reload := func(b []byte) {
		if srv.ReloadData(file, b) == nil && es != nil {
			es.reloaded(file, b)
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	var adm *admin.Server
	if cfg.Admin.Address != "" {
		quit := func() { sigs <- syscall.SIGTERM } // /quitquitquit drains as SIGTERM does
		opts := []admin.Option{admin.WithLogLevel(lv), admin.WithQuit(quit)}
		if es != nil {
			opts = append(opts, admin.WithConfigDump(es.client.ConfigDump))
		} else {
			// sluice's own format: Envoy's dump of the config converted,
			// when Envoy's form can carry it.
			opts = append(opts, admin.WithConfigDump(func(resource, mask string, eds bool) ([]byte, error) {
				b, _, err := xds.StaticConfigDump(srv.Config(), resource, mask, eds)
				return b, err
			}))
		}
		if adm, err = admin.Start(cfg.Admin.Address, srv, log, opts...); err != nil {
			fmt.Fprintln(stderr, err)
			srv.Shutdown()
			return 1
		}
		defer adm.Close()
	}
	loops := 0
	if g := srv.Loops(); g != nil {
		loops = g.Len()
	}
	log.Info("sluice started", "version", version.String(), "config", file, "concurrency", runtime.GOMAXPROCS(0), "io_loops", loops)

	w := config.NewWatcher(file, data)
	var tick <-chan time.Time
	if watch > 0 {
		t := time.NewTicker(watch)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if b, ok := w.Poll(); ok {
				reload(b)
			}
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				return drain(srv, sigs, sig, log)
			}
			if dynamic {
				log.Warn("SIGHUP ignored: a bootstrap with dynamic_resources is not reloaded; restart sluice to change it", "file", file)
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				srv.Reload(file) // logs and counts the failure
				continue
			}
			w.SetCurrent(b)
			reload(b)
		}
	}
}

// drain shuts the server down, waiting for open connections up to the
// drain timeout; a second SIGTERM or SIGINT exits at once, with status 1.
func drain(srv *proxy.Server, sigs <-chan os.Signal, sig os.Signal, log *slog.Logger) int {
	log.Info("draining and exiting; send the signal again to exit at once", "signal", sig.String(),
		"open_connections", srv.OpenConnections(), "drain_timeout", srv.Config().DrainTimeout.D())
	done := make(chan struct{})
	go func() { srv.Shutdown(); close(done) }()
	for {
		select {
		case <-done:
			log.Info("drained")
			return 0
		case again := <-sigs:
			if again == syscall.SIGHUP {
				continue
			}
			log.Warn("second signal: exiting without waiting", "signal", again.String(),
				"open_connections", srv.OpenConnections())
			return 1
		}
	}
}
