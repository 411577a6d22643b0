// Command sluice is a protocol-aware L4/L7 proxy for datastores.
//
//	sluice -c config.yaml            run
//	sluice validate -c config.yaml   check a config and exit
//	sluice version                   print the version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/config/xds"
	_ "github.com/sluice-proxy/sluice/filters/all"
	"github.com/sluice-proxy/sluice/hotrestart"
	"github.com/sluice-proxy/sluice/internal/version"
)

const usage = `Usage:
  sluice [run] -c FILE [flags]    run the proxy; SIGHUP reloads FILE, SIGTERM or
                                  SIGINT drains (a second one exits at once)
  sluice validate -c FILE         check FILE as a start would: syntax, fields,
                                  references, certificate and key files; with
                                  -check-addresses also that the addresses bind
  sluice convert -c FILE --to envoy|sluice
                                  print FILE's config in the other form: an
                                  Envoy v3 bootstrap or sluice's YAML
  sluice version                  print the version
  sluice help                     print this help
  sluice -c FILE -base-id N -restart-epoch E+1
                                  hot restart: take over the listening sockets
                                  and counters of the running epoch E, which
                                  drains and exits (docs/operating.md)
  sluice hot-restarter [-base-id N] -- ARGS
                                  run "sluice ARGS" as epoch 0 and hot restart
                                  it on SIGHUP (for systemd's ExecReload)

FILE is sluice's YAML or an Envoy v3 bootstrap (YAML or JSON: static
resources, and dynamic_resources from a control plane or files; see
docs/envoy-compat.md), told apart by content unless -config-format says. Relative file paths in FILE are resolved against
FILE's directory.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "hot-restarter" {
		return restarter(args[1:], stderr)
	}
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "validate" || args[0] == "convert" || args[0] == "version" || args[0] == "help") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sluice "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	file := fs.String("c", "", "config file (YAML)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	watch := fs.Duration("watch-interval", time.Second, "how often to check the config file for changes (0 disables); a change is applied once the same content was read at two checks in a row")
	concurrency := fs.Int("concurrency", 0, "CPU cores sluice runs on at once (GOMAXPROCS), as Envoy's --concurrency; 0: every core the process may use")
	ioLoops := fs.Int("io-loops", -1, "event loops (epoll threads) that move the bytes of plain-TCP tcp_proxy connections; -1: one per two --concurrency cores (at least one), 0: none (a goroutine per direction)")
	checkAddrs := fs.Bool("check-addresses", false, "validate: also bind every listener and admin address, and fail if one is in use")
	var hot hotFlags
	hot.register(fs)
	format := fs.String("config-format", "auto", "config file format: sluice, envoy (an Envoy v3 bootstrap, YAML or JSON) or auto (envoy when the file has static_resources, dynamic_resources, node or an admin.address.socket_address at its top level)")
	to := fs.String("to", "", "convert: the form to print, envoy or sluice")
	var node nodeFlags
	fs.StringVar(&node.id, "service-node", "", "xDS: the node id sent to the control plane, over the bootstrap's node.id (Envoy's --service-node)")
	fs.StringVar(&node.cluster, "service-cluster", "", "xDS: the node cluster sent to the control plane, over the bootstrap's node.cluster (Envoy's --service-cluster)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if _, err := envoy.Parser(*format, nil); err != nil {
		fmt.Fprintln(stderr, "sluice: -config-format:", err)
		return 2
	}
	if *concurrency < 0 {
		fmt.Fprintln(stderr, "sluice: -concurrency must be 0 or more")
		return 2
	}
	if *concurrency > 0 {
		runtime.GOMAXPROCS(*concurrency)
	}
	if hot.version {
		fmt.Fprintln(stdout, hotrestart.Version)
		return 0
	}
	switch cmd {
	case "help":
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	case "version":
		fmt.Fprintln(stdout, "sluice", version.String())
		return 0
	case "validate":
		if *file == "" {
			fmt.Fprintln(stderr, "sluice validate: -c FILE is required")
			return 2
		}
		return validate(*file, *format, *checkAddrs, stdout, stderr)
	case "convert":
		if *file == "" || *to == "" {
			fmt.Fprintln(stderr, "sluice convert: -c FILE and --to envoy|sluice are required")
			return 2
		}
		return convert(*file, *format, *to, stdout, stderr)
	}
	if *file == "" {
		fmt.Fprintln(stderr, "sluice: -c FILE is required (try: sluice -c examples/tcp.yaml, or sluice -h)")
		return 2
	}
	log, lv, err := newLogger(stderr, *level, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	return serve(*file, *format, *watch, *ioLoops, node, &hot, log, lv, stderr)
}

// validate checks file as a start would, without starting anything.
func validate(file, format string, checkAddrs bool, stdout, stderr io.Writer) int {
	parse, _ := envoy.Parser(format, func(file, msg string) { fmt.Fprintf(stderr, "%s: %s\n", file, msg) })
	var cfg *config.Config
	data, err := os.ReadFile(file)
	if err == nil {
		cfg, err = parse(file, data)
	}
	if err == nil {
		err = cfg.CheckFiles()
	}
	if err == nil && format != "sluice" && (format == "envoy" || envoy.IsBootstrap(data)) {
		var bs *bootstrapv3.Bootstrap
		if bs, err = envoy.Decode(file, data); err == nil {
			err = xds.Check(file, bs)
		}
	}
	if err == nil && checkAddrs {
		err = cfg.CheckAddresses()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(cfg.Listeners) == 0 && !cfg.AllowNoListeners && !hasLDS(file, data, format) {
		fmt.Fprintf(stderr, "%s: listeners: none; a running sluice refuses to reload to this config unless it sets allow_no_listeners: true\n", file)
	}
	fmt.Fprintf(stdout, "%s: OK\n", file)
	return 0
}

// newLogger returns the process's logger and its level, which the admin's
// /logging changes at run time.
func newLogger(w io.Writer, level, format string) (*slog.Logger, *slog.LevelVar, error) {
	lv := new(slog.LevelVar)
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("invalid -log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), lv, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), lv, nil
	}
	return nil, nil, fmt.Errorf("invalid -log-format %q: want text or json", format)
}

// hasLDS reports whether file is an Envoy bootstrap whose listeners come
// from LDS.
func hasLDS(file string, data []byte, format string) bool {
	if format == "sluice" || (format != "envoy" && !envoy.IsBootstrap(data)) {
		return false
	}
	bs, err := envoy.Decode(file, data)
	return err == nil && bs.GetDynamicResources().GetLdsConfig() != nil
}
