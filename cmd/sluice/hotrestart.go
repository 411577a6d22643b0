package main

import (
	"flag"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/admin"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/hotrestart"
	"github.com/sluice-proxy/sluice/proxy"
)

// hotFlags are Envoy's hot restart flags (docs/operating.md).
type hotFlags struct {
	epoch          int
	baseID         int
	socketPath     string
	drainTime      time.Duration
	parentShutdown time.Duration
	version        bool
}

func (h *hotFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&h.epoch, "restart-epoch", 0, "hot restart epoch: 0 for a first start; N takes the listening sockets and counters of the sluice of epoch N-1 of the same -base-id, which then drains and exits")
	fs.IntVar(&h.baseID, "base-id", -1, "hot restart id shared by the epochs of one sluice (Envoy's --base-id); -1: hot restart off (no socket is opened)")
	fs.StringVar(&h.socketPath, "socket-path", "@sluice_domain_socket", "hot restart unix socket name prefix, suffixed with _<base-id>_<epoch>; a leading @ is Linux's abstract namespace")
	fs.Func("drain-time-s", "seconds a draining sluice waits for open connections (default: the config's drain_timeout)", secs(&h.drainTime))
	fs.Func("parent-shutdown-time-s", "seconds after a hot restart's drain request at which the old sluice exits even if it has not drained (default: no limit beyond the drain time)", secs(&h.parentShutdown))
	fs.BoolVar(&h.version, "hot-restart-version", false, "print the hot restart protocol version and exit")
}

func secs(d *time.Duration) func(string) error {
	return func(s string) error {
		f, err := time.ParseDuration(s + "s")
		*d = f
		return err
	}
}

func (h *hotFlags) enabled() bool { return h.baseID >= 0 }

// joinParent connects to the sluice of the previous epoch and takes its
// listening sockets at cfg's addresses; nil when there is none.
func (h *hotFlags) joinParent(cfg *config.Config, log *slog.Logger) (*hotrestart.Client, map[string]net.Listener) {
	if !h.enabled() || h.epoch == 0 {
		return nil, nil
	}
	name := hotrestart.SocketName(h.socketPath, h.baseID, h.epoch-1)
	parent, err := hotrestart.Dial(name)
	if err != nil {
		log.Warn("hot restart: no parent process; binding the addresses afresh", "socket", name, "err", err)
		return nil, nil
	}
	addrs := make([]string, 0, len(cfg.Listeners))
	for _, l := range cfg.Listeners {
		addrs = append(addrs, l.Address)
	}
	lns, err := parent.Listeners(addrs)
	if err != nil {
		log.Warn("hot restart: the parent did not hand its sockets over; binding afresh", "err", err)
	}
	log.Info("hot restart: took the parent's listening sockets", "epoch", h.epoch, "sockets", len(lns))
	return parent, lns
}

// listen opens this epoch's socket for the next one; a stale socket file
// that nobody answers on is removed first.
func (h *hotFlags) listen(p hotrestart.Parent, log *slog.Logger) *hotrestart.Server {
	if !h.enabled() {
		return nil
	}
	name := hotrestart.SocketName(h.socketPath, h.baseID, h.epoch)
	if !strings.HasPrefix(name, "@") {
		if c, err := net.Dial("unix", name); err == nil {
			c.Close()
		} else {
			os.Remove(name)
		}
	}
	hs, err := hotrestart.Listen(name, p, log)
	if err != nil {
		log.Error("hot restart: cannot open the socket; a later epoch cannot take over", "socket", name, "err", err)
		return nil
	}
	return hs
}

// parentSide is what this process offers the next epoch.
type parentSide struct {
	srv     *proxy.Server
	adm     **admin.Server
	drainRq chan chan struct{}
	quit    chan struct{} // closed when serve returns
	started time.Time     // the first epoch's start
}

func (p *parentSide) Started() time.Time { return p.started }

func (p *parentSide) ListenerFiles(addrs []string) ([]string, []*os.File) {
	return p.srv.ListenerFiles(addrs)
}

func (p *parentSide) Counters() map[string]uint64 { return p.srv.Store.Counters() }

func (p *parentSide) ShutdownAdmin() {
	if *p.adm != nil {
		(*p.adm).Close()
	}
}

// Drain hands the request to serve's loop and waits until it drained.
func (p *parentSide) Drain() {
	done := make(chan struct{})
	select {
	case p.drainRq <- done:
		<-done
	case <-p.quit: // already exiting (SIGTERM): nothing left to drain
	}
}

// carryFinal adds what the parent counted after the first snapshot.
func carryFinal(parent *hotrestart.Client, srv *proxy.Server, before map[string]uint64, log *slog.Logger) {
	defer parent.Close()
	final, err := parent.Drain()
	if err != nil {
		log.Warn("hot restart: the parent's drain", "err", err)
		return
	}
	delta := map[string]uint64{}
	for name, v := range final {
		if v > before[name] {
			delta[name] = v - before[name]
		}
	}
	srv.Store.AddCounters(delta)
	log.Info("hot restart: the parent drained and exited")
}
