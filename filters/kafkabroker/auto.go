package kafkabroker

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
)

// The automatic broker address rewrite. The filter owns its per-broker
// listeners: the proxy's config model has no listeners that appear at run
// time, so rather than widening proxy.Server the listeners live in a set per
// stat prefix that outlives config reloads (a reload that rebuilds the filter
// takes the set over, so clients holding rewritten addresses keep working)
// and serve each connection through the newest filter: kafka_broker on the
// client side, a plain TCP pipe to the broker.

var autoSets = struct {
	sync.Mutex
	m map[string]*autoSet
}{m: map[string]*autoSet{}}

// autoSet is the per-broker listeners of one stat prefix.
type autoSet struct {
	cfg    Auto
	log    *slog.Logger
	filter atomic.Pointer[Filter]
	nextID atomic.Uint64

	mu     sync.Mutex
	byAddr map[string]*autoListener // broker host:port
	closed bool
}

// autoListener accepts clients for one broker.
type autoListener struct {
	set      *autoSet
	ln       net.Listener
	upstream string
	port     int32
	wg       sync.WaitGroup
}

// autoSetFor returns the set for prefix, replacing one built from another
// config.
func autoSetFor(prefix string, cfg *Auto, log *slog.Logger) *autoSet {
	want := *cfg
	if want.AdvertisedHost == "" {
		want.AdvertisedHost = want.BindHost
	}
	autoSets.Lock()
	defer autoSets.Unlock()
	if s := autoSets.m[prefix]; s != nil {
		if s.cfg == want {
			return s
		}
		go s.close()
	}
	if log == nil {
		log = slog.Default()
	}
	s := &autoSet{cfg: want, log: log, byAddr: map[string]*autoListener{}}
	autoSets.m[prefix] = s
	return s
}

// CloseAutoListeners closes the per-broker listeners of the kafka_broker
// filters with stat prefix prefix and waits for their connections to end.
// The server does not call it: listeners live as long as the process, across
// reloads. Tests call it.
func CloseAutoListeners(prefix string) {
	autoSets.Lock()
	s := autoSets.m[prefix]
	delete(autoSets.m, prefix)
	autoSets.Unlock()
	if s != nil {
		s.close()
	}
}

func (s *autoSet) setFilter(f *Filter) { s.filter.Store(f) }

// addr is the AddrFunc of the automatic mode: it advertises the listener
// for the broker at host:port, opening it on first sight.
func (s *autoSet) addr(id int32, host string, port int32) (string, int32) {
	if host == "" || port <= 0 {
		return host, port // "no node" entries of error responses
	}
	up := net.JoinHostPort(host, strconv.Itoa(int(port)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.byAddr[up]; l != nil {
		return s.cfg.AdvertisedHost, l.port
	}
	if s.closed {
		return host, port
	}
	lport := 0
	if s.cfg.PortRangeStart > 0 && id >= 0 && int64(s.cfg.PortRangeStart)+int64(id) <= 65535 {
		lport = int(s.cfg.PortRangeStart) + int(id)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.BindHost, strconv.Itoa(lport)))
	if err != nil {
		s.log.Warn("kafka_broker: cannot open a listener for broker; advertising it unchanged",
			"broker", up, "node_id", id, "err", err)
		return host, port
	}
	l := &autoListener{set: s, ln: ln, upstream: up, port: int32(ln.Addr().(*net.TCPAddr).Port)}
	s.byAddr[up] = l
	s.log.Info("kafka_broker: listening for broker", "broker", up, "node_id", id, "address", ln.Addr().String())
	l.wg.Add(1)
	go l.serve()
	return s.cfg.AdvertisedHost, l.port
}

func (s *autoSet) close() {
	s.mu.Lock()
	s.closed = true
	ls := s.byAddr
	s.byAddr = map[string]*autoListener{}
	s.mu.Unlock()
	for _, l := range ls {
		l.ln.Close()
	}
	for _, l := range ls {
		l.wg.Wait()
	}
}

func (l *autoListener) serve() {
	defer l.wg.Done()
	var conns sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	defer func() {
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	}()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		open[c] = struct{}{}
		mu.Unlock()
		conns.Add(1)
		go func() {
			defer conns.Done()
			l.pipe(c.(*net.TCPConn))
			mu.Lock()
			delete(open, c)
			mu.Unlock()
		}()
	}
}

// pipe serves one client of a per-broker listener.
func (l *autoListener) pipe(down *net.TCPConn) {
	defer down.Close()
	f := l.set.filter.Load()
	d := net.Dialer{Timeout: 10 * time.Second}
	uc, err := d.Dial("tcp", l.upstream)
	if err != nil {
		l.set.log.Info("kafka_broker: broker connect failed", "broker", l.upstream, "err", err)
		return
	}
	up := uc.(*net.TCPConn)
	defer up.Close()
	s := &filters.Session{ID: l.set.nextID.Add(1), Listener: "kafka_broker:" + l.upstream, Start: time.Now(),
		Downstream: down, Log: l.set.log}
	s.Local, _ = netip.ParseAddrPort(down.LocalAddr().String())
	s.Remote, _ = netip.ParseAddrPort(down.RemoteAddr().String())
	// A panic in the filter closes both sides of this connection only.
	contain := func() {
		if v := recover(); v != nil {
			s.Contain(guard.Recovered(v))
			up.Close()
		}
	}
	defer contain()
	kc := newConn(f, s, down)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer contain()
		if _, err := io.Copy(up, kc); err != nil {
			down.Close() // a refused stream: end both directions
		}
		up.CloseWrite()
	}()
	if _, err := io.Copy(kc, up); err != nil {
		up.Close()
	}
	kc.CloseWrite()
	<-done
	s.RunOnClose()
}
