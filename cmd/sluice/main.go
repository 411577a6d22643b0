// Command sluice is a protocol-aware L4/L7 proxy for datastores.
//
//	sluice -c config.yaml            run
//	sluice validate -c config.yaml   check a config and exit
//	sluice version                   print the version
package main

import (
	"context"
	"flag"
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
	_ "github.com/sluice-proxy/sluice/filters/all"
	"github.com/sluice-proxy/sluice/filters/tcpproxy"
	"github.com/sluice-proxy/sluice/internal/version"
	"github.com/sluice-proxy/sluice/proxy"
	"github.com/sluice-proxy/sluice/stats"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "validate" || args[0] == "version") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sluice "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", "", "config file (YAML)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json")
	watch := fs.Duration("watch-interval", time.Second, "how often to check the config file for changes (0 disables)")
	concurrency := fs.Int("concurrency", 0, "CPU cores sluice runs on at once (GOMAXPROCS), as Envoy's --concurrency; 0: every core the process may use")
	ioLoops := fs.Int("io-loops", -1, "event loops (epoll threads) that move the bytes of plain-TCP tcp_proxy connections; -1: one per two --concurrency cores (at least one), 0: none (a goroutine per direction)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	tcpproxy.SetIOLoops(*ioLoops)
	if *concurrency < 0 {
		fmt.Fprintln(stderr, "sluice: -concurrency must be 0 or more")
		return 2
	}
	if *concurrency > 0 {
		runtime.GOMAXPROCS(*concurrency)
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "sluice", version.String())
		return 0
	case "validate":
		if *file == "" {
			fmt.Fprintln(stderr, "sluice validate: -c FILE is required")
			return 2
		}
		if _, err := config.Load(*file); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: OK\n", *file)
		return 0
	}
	if *file == "" {
		fmt.Fprintln(stderr, "sluice: -c FILE is required (try: sluice -c examples/tcp.yaml)")
		return 2
	}
	log, err := newLogger(stderr, *level, *format)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	return serve(*file, *watch, log, stderr)
}

func serve(file string, watch time.Duration, log *slog.Logger, stderr io.Writer) int {
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv := proxy.New(stats.New(), log)
	if err := srv.Apply(cfg); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return 1
	}
	var adm *admin.Server
	if cfg.Admin.Address != "" {
		if adm, err = admin.Start(cfg.Admin.Address, srv, log); err != nil {
			fmt.Fprintln(stderr, err)
			srv.Shutdown()
			return 1
		}
	}
	log.Info("sluice started", "version", version.String(), "config", file, "concurrency", runtime.GOMAXPROCS(0))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{}, 1)
	poke := func() {
		select {
		case reload <- struct{}{}:
		default:
		}
	}
	if watch > 0 {
		go config.Watch(ctx, file, watch, poke)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for {
		select {
		case <-reload:
			srv.Reload(file)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				poke()
				continue
			}
			log.Info("draining and exiting", "signal", sig.String())
			if adm != nil {
				defer adm.Close()
			}
			srv.Shutdown()
			return 0
		}
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid -log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid -log-format %q: want text or json", format)
}
