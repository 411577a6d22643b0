// Package buffer is Envoy's buffer filter (envoy.filters.http.buffer): it
// reads the whole request body before the request goes on, refusing bodies
// over max_request_bytes with 413, so that upstreams get complete requests
// with a Content-Length (and slow uploads do not hold upstream connections).
package buffer

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "buffer"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.buffer"

// Config is Envoy's envoy.extensions.filters.http.buffer.v3.Buffer.
type Config struct {
	// MaxRequestBytes (required, > 0) is the largest body buffered; larger
	// requests are answered 413.
	MaxRequestBytes uint32 `yaml:"max_request_bytes" json:"max_request_bytes"`
}

// Validate requires max_request_bytes.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.MaxRequestBytes == 0 {
		errs.Add(config.Join(path, "max_request_bytes"), "required, greater than 0")
	}
}

// PerRoute is Envoy's BufferPerRoute: disabled, or a buffer of its own.
type PerRoute struct {
	Disabled bool    `yaml:"disabled" json:"disabled,omitempty"`
	Buffer   *Config `yaml:"buffer" json:"buffer,omitempty"`
}

// Validate requires exactly one of disabled and buffer.
func (p *PerRoute) Validate(path string, errs *config.Errors) {
	if p.Disabled == (p.Buffer != nil) {
		errs.Add(path, "exactly one of disabled: true and buffer is needed")
	}
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built buffer filter.
type Filter struct {
	cfg      *Config
	perRoute httpfilter.PerRoute[*PerRoute]
	log      *slog.Logger
	badRoute sync.Once
}

// New builds the filter.
func New(c *Config, env *httpfilter.Env) *Filter {
	f := &Filter{cfg: c, log: env.Log}
	f.perRoute.NewConfig = func() any { return &PerRoute{} }
	f.perRoute.Build = func(cfg any) (*PerRoute, error) { return cfg.(*PerRoute), nil }
	return f
}

// tooLarge is Envoy's local reply body for 413.
const tooLarge = "Payload Too Large"

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, on, err := f.limitFor(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("buffer: bad per-route config", "err", err) })
			http.Error(w, "buffer: bad per-route config", http.StatusInternalServerError)
			return
		}
		if !on || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > int64(limit) {
			refuse(w)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
		switch {
		case err != nil:
			// The client broke off the body: nothing useful can go
			// upstream, and the client is probably gone.
			http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
			return
		case len(body) > int(limit):
			refuse(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(tooLarge)))
	w.Header().Set("Connection", "close") // the unread body stays behind
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = io.WriteString(w, tooLarge)
}

// limitFor returns the body limit for r and whether buffering is on.
func (f *Filter) limitFor(r *http.Request) (uint32, bool, error) {
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		for _, key := range []string{Name, EnvoyName} {
			if raw := st.Route.PerFilterConfig(key); raw != nil {
				p, err := f.perRoute.Get(key, raw)
				if err != nil {
					return 0, false, err
				}
				if p.Disabled {
					return 0, false, nil
				}
				return p.Buffer.MaxRequestBytes, true, nil
			}
		}
	}
	return f.cfg.MaxRequestBytes, true, nil
}

var _ httpfilter.Filter = (*Filter)(nil)
