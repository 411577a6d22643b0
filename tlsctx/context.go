package tlsctx

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// DefaultRefresh is how often a context re-reads its material.
const DefaultRefresh = time.Second

// Options are what a context needs besides its config.
type Options struct {
	// Stats receives the ssl.* counters; nil counts nothing.
	Stats *Stats
	// Log receives rotations and refused handshakes; nil discards.
	Log *slog.Logger
	// Secrets serves SDS secrets whose sds_config is not a file (ads); nil
	// refuses such configs.
	Secrets SecretSource
	// Refresh is how often files and secrets are re-read; zero is
	// DefaultRefresh, negative never.
	Refresh time.Duration
	// Path is the context's config path, for errors.
	Path string
}

// base is what server and client contexts share: the current material and
// the goroutine that refreshes it.
type base struct {
	in         inputs
	sans       []sanMatcher
	mustStaple bool
	opt        Options
	log        *slog.Logger
	cur        atomic.Pointer[material]
	stats      atomic.Pointer[Stats] // rotations; Options.Stats until SetStats
	last       [32]byte
	onUpdate   func(*material)
	stop       chan struct{}
	done       chan struct{}
	closeOnce  sync.Once
}

// start loads the first material (an error refuses the config) and starts
// the refresh goroutine.
func (b *base) start() error {
	b.log = b.opt.Log
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	r, err := b.in.read()
	if err != nil {
		return err
	}
	m, err := r.parse(b.opt.Path, b.mustStaple, b.sans)
	if err != nil {
		return err
	}
	b.last = r.sum()
	if b.opt.Stats != nil {
		b.stats.Store(b.opt.Stats)
	}
	b.set(m)
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	every := b.opt.Refresh
	if every == 0 {
		every = DefaultRefresh
	}
	if every < 0 {
		close(b.done)
		return nil
	}
	go b.loop(every)
	return nil
}

func (b *base) set(m *material) {
	b.cur.Store(m)
	if b.onUpdate != nil {
		b.onUpdate(m)
	}
}

func (b *base) loop(every time.Duration) {
	defer close(b.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.refresh()
		}
	}
}

// refresh re-reads the inputs and swaps in new material when they changed
// and load; a read or parse failure keeps the old material (the next tick
// tries again only if the bytes change).
func (b *base) refresh() {
	r, err := b.in.read()
	if err != nil {
		b.log.Debug("TLS material not readable; keeping the current one", "context", b.opt.Path, "err", err)
		return
	}
	sum := r.sum()
	if sum == b.last {
		return
	}
	b.last = sum
	m, err := r.parse(b.opt.Path, b.mustStaple, b.sans)
	if err != nil {
		if st := b.stats.Load(); st != nil {
			st.UpdateFailed.Inc()
		}
		b.log.Warn("changed TLS material does not load; keeping the current one", "context", b.opt.Path, "err", err)
		return
	}
	b.set(m)
	if st := b.stats.Load(); st != nil {
		st.ContextUpdate.Inc()
	}
	attrs := []any{"context", b.opt.Path}
	for _, c := range m.certs {
		attrs = append(attrs, "serial", c.Leaf.SerialNumber.Text(16), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	b.log.Info("TLS material rotated; new handshakes use it", attrs...)
}

// SetStats sets where rotations are counted (a listener's stats, known
// only once it is bound).
func (b *base) SetStats(st *Stats) { b.stats.Store(st) }

// Close stops the refresh goroutine. Open connections are not affected.
func (b *base) Close() error {
	b.closeOnce.Do(func() {
		if b.stop != nil {
			close(b.stop)
			<-b.done
		}
	})
	return nil
}

// Certificates returns the certificates in use now (for /certs).
func (b *base) Certificates() []*tls.Certificate {
	if m := b.cur.Load(); m != nil {
		return m.certs
	}
	return nil
}

// newInputs gathers a common context's static inputs; secrets serves ads.
func newInputs(c *config.CommonTLSContext, path string, secrets SecretSource) (inputs, error) {
	in := inputs{path: path}
	if c == nil {
		return in, nil
	}
	cp := config.Join(path, "common_tls_context")
	for i := range c.TLSCertificates {
		in.certs = append(in.certs, &c.TLSCertificates[i])
	}
	for i, s := range c.TLSCertificateSdsSecretConfigs {
		src, err := sourceFor(&s, secrets, config.Index(config.Join(cp, "tls_certificate_sds_secret_configs"), i))
		if err != nil {
			return in, err
		}
		in.certSDS = append(in.certSDS, sdsRef{name: s.Name, src: src, path: config.Index(config.Join(cp, "tls_certificate_sds_secret_configs"), i)})
	}
	in.vc = c.ValidationContext
	if s := c.ValidationContextSdsSecretConfig; s != nil {
		p := config.Join(cp, "validation_context_sds_secret_config")
		src, err := sourceFor(s, secrets, p)
		if err != nil {
			return in, err
		}
		in.vcSDS = &sdsRef{name: s.Name, src: src, path: p}
	}
	return in, nil
}

func sourceFor(s *config.SdsSecretConfig, secrets SecretSource, path string) (SecretSource, error) {
	if s.SdsConfig != nil && s.SdsConfig.PathConfigSource != nil {
		return FileSecrets{Path: s.SdsConfig.PathConfigSource.Path}, nil
	}
	if secrets == nil {
		return nil, fmt.Errorf("%s.sds_config: ads needs an xDS secret source, and none is configured", path)
	}
	return secrets, nil
}
