// Package extauthz is Envoy's external authorization HTTP filter
// (envoy.filters.http.ext_authz): each request is described to a gRPC
// (envoy.service.auth.v3.Authorization) or HTTP authorization service,
// which allows it (optionally changing its headers), denies it (with the
// status, headers and body the client gets) or fails (answered with
// status_on_error, or let through with failure_mode_allow). Both clients
// reach the service through a sluice cluster; the gRPC one is
// go-control-plane's generated client, the HTTP one net/http's.
//
// Stats are Envoy's: cluster.<route's cluster>.ext_authz[.<stat_prefix>].
// ok|denied|error|disabled|failure_mode_allowed.
package extauthz

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "ext_authz"

// EnvoyName is Envoy's filter name: the typed_per_filter_config key and the
// dynamic metadata namespace of the service's metadata.
const EnvoyName = "envoy.filters.http.ext_authz"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env)
		},
	})
}

// client is one kind of authorization service.
type client interface {
	check(ctx context.Context, req *authv3.CheckRequest) response
	close() error
}

// Filter is a built ext_authz filter; it holds the service's connections
// until Close.
type Filter struct {
	cfg                               *Config
	client                            client
	timeout                           time.Duration
	statusOnError                     int
	allowedHeaders, disallowedHeaders matcher
	root                              *stats.Scope
	counters                          sync.Map // cluster name -> *counters
	perRoute                          httpfilter.PerRoute[*PerRoute]
	log                               *slog.Logger
	badRoute                          sync.Once
}

type counters struct{ ok, denied, err, disabled, failOpen *stats.Counter }

// New builds the filter from a validated config.
func New(c *Config, env *httpfilter.Env) (*Filter, error) {
	f := &Filter{cfg: c, root: env.Stats.Store().Root(), log: env.Log, statusOnError: http.StatusForbidden,
		allowedHeaders: compileList(c.AllowedHeaders), disallowedHeaders: compileList(c.DisallowedHeaders)}
	if c.AllowedHeaders == nil {
		f.allowedHeaders = nil
	}
	if c.StatusOnError != nil {
		f.statusOnError = c.StatusOnError.Code
	}
	if c.GrpcService != nil {
		f.timeout = c.GrpcService.TimeoutOr(defaultTimeout)
		g, err := newGRPCClient(c.GrpcService, env.Clusters)
		if err != nil {
			return nil, err
		}
		f.client = g
	} else {
		f.timeout = c.HTTPService.ServerURI.Timeout.D()
		f.client = newHTTPClient(c.HTTPService, env.Clusters)
	}
	f.perRoute.NewConfig = func() any { return &PerRoute{} }
	f.perRoute.Build = func(cfg any) (*PerRoute, error) { return cfg.(*PerRoute), nil }
	return f, nil
}

// Close closes the connections to the service.
func (f *Filter) Close() error { return f.client.close() }

// Wrap checks each request with the service before next.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, err := f.routeConfig(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("ext_authz: bad per-route config", "err", err) })
			http.Error(w, "ext_authz: bad per-route config", http.StatusInternalServerError)
			return
		}
		cs := f.countersFor(r)
		if pr != nil && pr.Disabled {
			cs.disabled.Inc()
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		var ext map[string]string
		if pr != nil && pr.CheckSettings != nil {
			ext = pr.CheckSettings.ContextExtensions
		}
		if b := f.cfg.WithRequestBody; b != nil && (pr == nil || pr.CheckSettings == nil || !pr.CheckSettings.DisableRequestBodyBuffering) {
			held, partial, err := readBody(r, b.MaxRequestBytes)
			if err != nil {
				return // the client's body broke off; nothing to answer
			}
			if partial && !b.AllowPartialMessage {
				localReply(w, http.StatusRequestEntityTooLarge, "Payload Too Large")
				return
			}
			if partial {
				r.Header.Set("X-Envoy-Auth-Partial-Body", "true")
			}
			body = held
		}
		ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
		resp := f.client.check(ctx, f.checkRequest(r, body, ext))
		cancel()
		switch resp.verdict {
		case allowed:
			cs.ok.Inc()
			for _, h := range resp.remove {
				r.Header.Del(h)
			}
			apply(r.Header, resp.upstream)
			apply(w.Header(), resp.client)
			if len(resp.metadata) > 0 {
				for k, v := range resp.metadata {
					r = r.WithContext(httpfilter.WithMetadata(r.Context(), EnvoyName, k, v))
				}
			}
			if f.cfg.ClearRouteCache && (len(resp.upstream) > 0 || len(resp.remove) > 0) {
				if st := httpfilter.FromContext(r.Context()); st != nil {
					st.Route = nil
				}
			}
			next.ServeHTTP(w, r)
		case denied:
			cs.denied.Inc()
			flag(r, httpfilter.ExtAuthzDenied)
			apply(w.Header(), resp.client)
			localReply(w, resp.code, resp.body)
		default:
			cs.err.Inc()
			if f.cfg.FailureModeAllow {
				cs.failOpen.Inc()
				if f.cfg.FailureModeAllowHeaderAdd {
					r.Header.Set("X-Envoy-Auth-Failure-Mode-Allowed", "true")
				}
				next.ServeHTTP(w, r)
				return
			}
			flag(r, httpfilter.ExtAuthzDenied)
			localReply(w, f.statusOnError, "")
		}
	})
}

// flag sets a response flag on the request's stream, when there is one.
func flag(r *http.Request, fl httpfilter.Flag) {
	if st := httpfilter.FromContext(r.Context()); st != nil {
		st.SetFlag(fl)
	}
}

// localReply answers the client without the upstream.
func localReply(w http.ResponseWriter, code int, body string) {
	w.Header().Del("Content-Length")
	if body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/plain")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// routeConfig returns the route's ExtAuthzPerRoute, or nil.
func (f *Filter) routeConfig(r *http.Request) (*PerRoute, error) {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return nil, nil
	}
	for _, key := range []string{Name, EnvoyName} {
		if raw := st.Route.PerFilterConfig(key); raw != nil {
			return f.perRoute.Get(key, raw)
		}
	}
	return nil, nil
}

// countersFor returns the stats of the request's route's cluster, where
// Envoy counts them.
func (f *Filter) countersFor(r *http.Request) *counters {
	name := ""
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		if c, ok := st.Route.(interface{ Cluster(*http.Request) string }); ok {
			name = c.Cluster(r)
		}
	}
	if c, ok := f.counters.Load(name); ok {
		return c.(*counters)
	}
	sc := f.root.Sub("cluster").Sub(name).Sub("ext_authz")
	if f.cfg.StatPrefix != "" {
		sc = sc.Sub(f.cfg.StatPrefix)
	}
	c := &counters{ok: sc.Counter("ok"), denied: sc.Counter("denied"), err: sc.Counter("error"),
		disabled: sc.Counter("disabled"), failOpen: sc.Counter("failure_mode_allowed")}
	v, _ := f.counters.LoadOrStore(name, c)
	return v.(*counters)
}

// configExact is an exact StringMatcher.
func configExact(s string) config.StringMatcher { return config.StringMatcher{Exact: &s} }

var (
	_ httpfilter.Filter = (*Filter)(nil)
	_ filters.Closer    = (*Filter)(nil)
)
