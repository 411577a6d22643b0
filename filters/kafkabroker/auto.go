package kafkabroker

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/sluice-proxy/sluice/filters"
)

// The automatic broker address rewrite. The per-broker listeners are the
// server's (filters.Env.Listeners): they count in listener.* stats, show in
// /listeners and write the owning listener's access log. What the filter
// keeps is an autoSet per owning listener, stat prefix and auto config, in
// filters.Env.Retained, so that it outlives reloads: a reload that rebuilds
// the filter with the same settings finds the listeners open (clients hold
// their addresses) and serves them through the rebuilt filter. A listener is
// closed when its broker is missing from a Metadata or DescribeCluster
// response's broker list, and all of them when no filter of the set is left
// (the chains using it were retired, or a reload dropped the mode).

// autoSet is the per-broker listeners of one owning listener, stat prefix
// and auto config.
type autoSet struct {
	cfg    Auto
	prefix string
	host   filters.DynamicListeners
	log    *slog.Logger

	mu     sync.Mutex
	live   []*Filter // built filters using the set, newest last; the newest serves
	byAddr map[string]filters.DynamicListener
}

// autoSetFor returns the set of env's listener for prefix and cfg.
func autoSetFor(env *filters.Env, prefix string, cfg *Auto) (*autoSet, error) {
	if env.Listeners == nil {
		return nil, fmt.Errorf("broker_address_rewrite.auto: the server offers no dynamic listeners")
	}
	want := *cfg
	if want.AdvertisedHost == "" {
		want.AdvertisedHost = want.BindHost
	}
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	key := fmt.Sprintf("%s/%s/%+v", Name, prefix, want)
	s := env.Retained.Get(key, func() any {
		return &autoSet{cfg: want, prefix: prefix, host: env.Listeners, log: log, byAddr: map[string]filters.DynamicListener{}}
	}).(*autoSet)
	return s, nil
}

// add makes f, built whole, the filter that serves the listeners; f.Close
// takes it out.
func (s *autoSet) add(f *Filter) {
	s.mu.Lock()
	s.live = append(s.live, f)
	s.mu.Unlock()
}

// current returns the filter that serves the per-broker listeners.
func (s *autoSet) current() *Filter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.live) == 0 {
		return nil
	}
	return s.live[len(s.live)-1]
}

// release takes f out of the live filters; the last one out closes the
// listeners.
func (s *autoSet) release(f *Filter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, g := range s.live {
		if g == f {
			s.live = append(s.live[:i], s.live[i+1:]...)
			break
		}
	}
	if len(s.live) > 0 {
		return
	}
	for up, l := range s.byAddr {
		l.Close()
		delete(s.byAddr, up)
	}
}

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
		return s.cfg.AdvertisedHost, listenerPort(l)
	}
	if len(s.live) == 0 {
		return host, port // closed
	}
	lport := 0
	if s.cfg.PortRangeStart > 0 && id >= 0 && int64(s.cfg.PortRangeStart)+int64(id) <= 65535 {
		lport = int(s.cfg.PortRangeStart) + int(id)
	}
	bind := net.JoinHostPort(s.cfg.BindHost, strconv.Itoa(lport))
	chain := filters.DynamicChain{Observers: []filters.ObserverFilter{(*autoObserver)(s)},
		Terminal: &brokerPipe{addr: up, log: s.log}}
	l, err := s.host.Listen(fmt.Sprintf("%s/%s/%s", Name, s.prefix, up), bind, chain)
	if err != nil {
		s.log.Warn("kafka_broker: cannot open a listener for broker; advertising it unchanged",
			"broker", up, "node_id", id, "err", err)
		return host, port
	}
	s.byAddr[up] = l
	s.log.Info("kafka_broker: listening for broker", "broker", up, "node_id", id, "address", l.Addr())
	return s.cfg.AdvertisedHost, listenerPort(l)
}

// retain closes the listeners of brokers not in brokers (host:port), the
// full broker list of a Metadata or DescribeCluster response.
func (s *autoSet) retain(brokers map[string]bool) {
	if len(brokers) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for up, l := range s.byAddr {
		if !brokers[up] {
			s.log.Info("kafka_broker: broker left the metadata; closing its listener", "broker", up, "address", l.Addr())
			l.Close()
			delete(s.byAddr, up)
		}
	}
}

func listenerPort(l filters.DynamicListener) int32 {
	_, p, _ := net.SplitHostPort(l.Addr())
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// autoObserver is the observer of the per-broker listeners: the set's
// newest filter.
type autoObserver autoSet

func (o *autoObserver) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	f := (*autoSet)(o).current()
	if f == nil {
		return nil, fmt.Errorf("kafka_broker: no filter serves this broker listener any more")
	}
	return f.Observe(s, c)
}

var _ filters.ObserverFilter = (*autoObserver)(nil)
