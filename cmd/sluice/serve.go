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
func serve(file, format string, watch time.Duration, ioLoops int, node nodeFlags, hot *hotFlags, log *slog.Logger, lv *slog.LevelVar, stderr io.Writer) int {
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
	parent, inherited := hot.joinParent(cfg, log)
	if parent != nil {
		defer parent.Close()
	}
	srv := proxy.New(stats.New(), log, proxy.IOLoops(ioLoops), proxy.ConfigParser(parse),
		proxy.Inherit(inherited), proxy.DrainTime(hot.drainTime))
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
	var before map[string]uint64 // the parent's counters, carried over
	firstStart := time.Now()     // of epoch 0, for uptime_all_epochs
	if parent != nil {
		firstStart = parent.Started
		if before, err = parent.Counters(); err == nil {
			srv.Store.AddCounters(before)
		}
		if err := parent.ShutdownAdmin(); err != nil {
			log.Warn("hot restart: the parent's admin", "err", err)
		}
	}
	var adm *admin.Server
	if cfg.Admin.Address != "" {
		quit := func() { sigs <- syscall.SIGTERM } // /quitquitquit drains as SIGTERM does
		opts := []admin.Option{admin.WithLogLevel(lv), admin.WithQuit(quit), admin.WithHotRestart(hot.epoch, firstStart)}
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
	side := &parentSide{srv: srv, adm: &adm, started: firstStart, drainRq: make(chan chan struct{}), quit: make(chan struct{})}
	var drained <-chan struct{} // the next epoch took over and was answered
	if hs := hot.listen(side, log); hs != nil {
		defer hs.Close()
		drained = hs.Drained
	}
	defer close(side.quit) // before hs.Close: a drain request then no longer waits
	if parent != nil {
		// Everything is serving: the parent may stop accepting now.
		go carryFinal(parent, srv, before, log)
	}

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
		case done := <-side.drainRq:
			code := drainForRestart(srv, hot.parentShutdown, log)
			close(done)
			select { // the reply carries the final counters
			case <-drained:
			case <-time.After(5 * time.Second):
			}
			return code
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

// drainForRestart is drain for a hot restart: the next epoch accepts on the
// same sockets, so this one stops accepting and lets its connections
// finish, up to the drain time; limit (Envoy's --parent-shutdown-time-s)
// ends the wait early when set.
func drainForRestart(srv *proxy.Server, limit time.Duration, log *slog.Logger) int {
	log.Info("hot restart: draining and exiting", "open_connections", srv.OpenConnections())
	done := make(chan struct{})
	go func() { srv.Shutdown(); close(done) }()
	var expire <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-done:
		log.Info("hot restart: drained")
		return 0
	case <-expire:
		log.Warn("hot restart: parent shutdown time reached; exiting", "open_connections", srv.OpenConnections())
		return 0
	}
}
