package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/router"
)

// chain is one built filter chain: its match, optional TLS termination, the
// observers in order and the terminal.
type chain struct {
	name      string
	match     chainMatch
	tls       *tls.Config
	observers []filters.ObserverFilter
	terminal  filters.TerminalFilter
}

// chainSet is the immutable set of chains of one listener config; a reload
// swaps the whole set, and connections keep the set they were accepted with.
type chainSet struct {
	// listener is the listener config the set was built from; connections
	// read it (never the listener's own field, which a reload replaces).
	listener  config.Listener
	alog      *accessLog
	chains    []*chain
	needHello bool // some chain matches on SNI, ALPN or transport, or terminates TLS

	// Built filters that hold resources (redis_proxy's upstream pools,
	// kafka_mesh's clients) implement filters.Closer; they are closed once
	// the set is retired by a reload or shutdown and its last connection
	// has ended, or at once when the build fails.
	closers   []filters.Closer
	log       *slog.Logger
	refs      atomic.Int64
	retired   atomic.Bool
	closeOnce sync.Once
}

// release drops one connection's reference.
func (cs *chainSet) release() {
	if cs.refs.Add(-1) == 0 && cs.retired.Load() {
		cs.close()
	}
}

// retire marks the set replaced; its filters close when no connection uses it.
func (cs *chainSet) retire() {
	cs.retired.Store(true)
	if cs.refs.Load() == 0 {
		cs.close()
	}
}

func (cs *chainSet) close() {
	cs.closeOnce.Do(func() {
		for _, c := range cs.closers {
			if err := c.Close(); err != nil && cs.log != nil {
				cs.log.Warn("closing a retired filter", "filter", fmt.Sprintf("%T", c), "err", err)
			}
		}
	})
}

type chainMatch struct {
	serverNames []string
	alpn        []string
	prefixes    []netip.Prefix
	destPort    uint16
	transport   string
}

// connFacts is what chain matching looks at.
type connFacts struct {
	sni    string
	alpn   []string
	isTLS  bool
	remote netip.Addr
	port   uint16
}

func (m *chainMatch) matches(f *connFacts) bool {
	if m.destPort != 0 && m.destPort != f.port {
		return false
	}
	if len(m.serverNames) > 0 && !router.MatchServerName(m.serverNames, f.sni) {
		return false
	}
	switch m.transport {
	case "tls":
		if !f.isTLS {
			return false
		}
	case "raw_buffer":
		if f.isTLS {
			return false
		}
	}
	if len(m.alpn) > 0 && !anyIn(m.alpn, f.alpn) {
		return false
	}
	if len(m.prefixes) > 0 {
		ok := false
		for _, p := range m.prefixes {
			if p.Contains(f.remote.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func anyIn(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}

// pick returns the first chain whose match fits, in config order.
func (cs *chainSet) pick(f *connFacts) *chain {
	for _, c := range cs.chains {
		if c.match.matches(f) {
			return c
		}
	}
	return nil
}

// buildChains builds every chain of a listener config. It returns errors with
// the config path so that a bad reload is refused before anything changes.
// A failed build closes the filters it had built.
func buildChains(l *config.Listener, lpath string, env *filters.Env) (_ *chainSet, err error) {
	cs := &chainSet{listener: *l, log: env.Log}
	defer func() {
		if err != nil {
			cs.retire()
		}
	}()
	for i, fc := range l.Chains() {
		cpath := fmt.Sprintf("%s.filter_chains[%d]", lpath, i)
		if len(l.Filters) > 0 {
			cpath = lpath
		}
		c := &chain{name: fc.Name}
		m := fc.Match
		c.match = chainMatch{serverNames: m.ServerNames, alpn: m.ApplicationProtocols,
			destPort: uint16(m.DestinationPort), transport: m.TransportProtocol}
		for _, p := range m.SourcePrefixes {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				a, _ := netip.ParseAddr(p)
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			c.match.prefixes = append(c.match.prefixes, pfx)
		}
		if m.NeedsClientHello() {
			cs.needHello = true
		}
		if fc.TLS != nil {
			tc, err := tlsConfig(fc.TLS)
			if err != nil {
				return nil, fmt.Errorf("%s.tls: %w", cpath, err)
			}
			c.tls = tc
			cs.needHello = true
		}
		for j, f := range fc.Filters {
			fac, ok := env.Factories.Lookup(f.Name)
			if !ok {
				return nil, fmt.Errorf("%s.filters[%d]: unknown filter %q", cpath, j, f.Name)
			}
			built, err := fac.Build(f.Config, env)
			if err != nil {
				return nil, fmt.Errorf("%s.filters[%d].%s: %w", cpath, j, f.Name, err)
			}
			cl, err := filters.AsCloser(built)
			if err != nil {
				return nil, fmt.Errorf("%s.filters[%d].%s: %w", cpath, j, f.Name, err)
			}
			if cl != nil {
				cs.closers = append(cs.closers, cl)
			}
			switch v := built.(type) {
			case filters.TerminalFilter:
				c.terminal = v
			case filters.ObserverFilter:
				c.observers = append(c.observers, v)
			default:
				return nil, fmt.Errorf("%s.filters[%d].%s: factory built %T, neither observer nor terminal", cpath, j, f.Name, built)
			}
		}
		cs.chains = append(cs.chains, c)
	}
	return cs, nil
}

// tlsConfig loads a chain's certificate and client CA.
func tlsConfig(t *config.TLSContext) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.CertificateFile, t.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: t.ALPN, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA file %s has no PEM certificates", t.ClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		if t.RequireClientCert {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return tc, nil
}
