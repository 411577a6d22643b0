// Package ratelimit is Envoy's global rate limit HTTP filter
// (envoy.filters.http.ratelimit): the matched route's rate_limits actions
// (router.RateLimitDescriptors) build descriptors, which are sent to a
// rate limit service (envoy.service.ratelimit.v3, go-control-plane's
// generated client, through a cluster); OVER_LIMIT is answered 429 with
// x-envoy-ratelimited, and the service's headers and Envoy's
// DRAFT_VERSION_03 x-ratelimit-* headers go to the client.
//
// Stats are Envoy's: cluster.<rate limit cluster>.ratelimit.ok|over_limit|
// error|failure_mode_allowed.
package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	commonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"

	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters.
const Name = "ratelimit"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env)
		},
	})
}

// Filter is a built ratelimit filter; it holds the service's connection
// until Close.
type Filter struct {
	cfg                     *Config
	cc                      *grpc.ClientConn
	client                  rlsv3.RateLimitServiceClient
	timeout                 time.Duration
	limitedStatus, errorSts int
	xHeaders                bool
	ok, overLimit, err, fma *stats.Counter
}

// New builds the filter from a validated config.
func New(c *Config, env *httpfilter.Env) (*Filter, error) {
	g := c.RateLimitService.GrpcService
	cc, err := g.Dial(env.Clusters)
	if err != nil {
		return nil, err
	}
	sc := env.Stats.Store().Root().Sub("cluster").Sub(g.EnvoyGrpc.ClusterName).Sub("ratelimit")
	f := &Filter{cfg: c, cc: cc, client: rlsv3.NewRateLimitServiceClient(cc), timeout: g.TimeoutOr(defaultTimeout),
		limitedStatus: http.StatusTooManyRequests, errorSts: http.StatusInternalServerError,
		xHeaders: c.EnableXRatelimitHeaders == "DRAFT_VERSION_03",
		ok:       sc.Counter("ok"), overLimit: sc.Counter("over_limit"), err: sc.Counter("error"), fma: sc.Counter("failure_mode_allowed")}
	if c.Timeout != nil {
		f.timeout = c.Timeout.D()
	}
	if s := c.RateLimitedStatus; s != nil && s.Code >= 400 {
		f.limitedStatus = s.Code
	}
	if s := c.StatusOnError; s != nil && s.Code > 0 {
		f.errorSts = s.Code
	}
	return f, nil
}

// Close closes the connection to the service.
func (f *Filter) Close() error { return f.cc.Close() }

// routeWithLimits is what the filter needs of the matched route.
type routeWithLimits interface {
	HasRateLimits() bool
	RateLimitDescriptors(*http.Request, router.RateLimitRequest) [][]router.DescriptorEntry
	Cluster(*http.Request) string
}

// Wrap asks the service about requests whose route has rate_limits.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ds := f.descriptors(r)
		if len(ds) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
		resp, err := f.client.ShouldRateLimit(ctx, &rlsv3.RateLimitRequest{Domain: f.cfg.Domain, Descriptors: ds})
		cancel()
		if err != nil || resp.GetOverallCode() == rlsv3.RateLimitResponse_UNKNOWN {
			f.err.Inc()
			if f.cfg.FailureModeDeny {
				flag(r, httpfilter.RateLimitServiceError)
				localReply(w, f.errorSts)
				return
			}
			f.fma.Inc()
			next.ServeHTTP(w, r)
			return
		}
		for _, h := range resp.GetResponseHeadersToAdd() {
			w.Header().Add(h.GetKey(), h.GetValue())
		}
		if f.xHeaders {
			xRateLimitHeaders(w.Header(), resp.GetStatuses())
		}
		if resp.GetOverallCode() == rlsv3.RateLimitResponse_OVER_LIMIT {
			f.overLimit.Inc()
			flag(r, httpfilter.RateLimited)
			if !f.cfg.DisableXEnvoyRatelimitedHeader {
				w.Header().Set("X-Envoy-Ratelimited", "true")
			}
			localReply(w, f.limitedStatus)
			return
		}
		f.ok.Inc()
		for _, h := range resp.GetRequestHeadersToAdd() {
			r.Header.Add(h.GetKey(), h.GetValue())
		}
		next.ServeHTTP(w, r)
	})
}

// descriptors builds the request's descriptors from its route; none when
// the request type is not checked or the route has no rate_limits.
func (f *Filter) descriptors(r *http.Request) []*commonv3.RateLimitDescriptor {
	internal := r.Header.Get("X-Envoy-Internal") == "true"
	if (f.cfg.RequestType == "internal" && !internal) || (f.cfg.RequestType == "external" && internal) {
		return nil
	}
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return nil
	}
	rt, ok := st.Route.(routeWithLimits)
	if !ok || !rt.HasRateLimits() {
		return nil
	}
	in := router.RateLimitRequest{Stage: f.cfg.Stage, Cluster: rt.Cluster(r)}
	if st.ClientAddr.IsValid() {
		in.RemoteAddr = st.ClientAddr.String()
	}
	var out []*commonv3.RateLimitDescriptor
	for _, d := range rt.RateLimitDescriptors(r, in) {
		rd := &commonv3.RateLimitDescriptor{Entries: make([]*commonv3.RateLimitDescriptor_Entry, len(d))}
		for i, e := range d {
			rd.Entries[i] = &commonv3.RateLimitDescriptor_Entry{Key: e.Key, Value: e.Value}
		}
		out = append(out, rd)
	}
	return out
}

// xRateLimitHeaders writes Envoy's DRAFT_VERSION_03 headers from the
// status closest to its limit: x-ratelimit-limit lists every limit as
// "<n>;w=<window seconds>", after the closest one's count.
func xRateLimitHeaders(h http.Header, statuses []*rlsv3.RateLimitResponse_DescriptorStatus) {
	var min *rlsv3.RateLimitResponse_DescriptorStatus
	for _, s := range statuses {
		if s.GetCurrentLimit() == nil {
			continue
		}
		if min == nil || s.GetLimitRemaining() < min.GetLimitRemaining() {
			min = s
		}
	}
	if min == nil {
		return
	}
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(min.GetCurrentLimit().GetRequestsPerUnit()), 10))
	for _, s := range statuses {
		l := s.GetCurrentLimit()
		if l == nil {
			continue
		}
		b.WriteString(", ")
		b.WriteString(strconv.FormatUint(uint64(l.GetRequestsPerUnit()), 10))
		b.WriteString(";w=")
		b.WriteString(strconv.FormatInt(unitSeconds(l.GetUnit()), 10))
		if n := l.GetName(); n != "" && safeName(n) {
			b.WriteString(`;name="` + n + `"`)
		}
	}
	h.Set("X-Ratelimit-Limit", b.String())
	h.Set("X-Ratelimit-Remaining", strconv.FormatUint(uint64(min.GetLimitRemaining()), 10))
	if d := min.GetDurationUntilReset(); d != nil {
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(int64(d.AsDuration().Seconds()), 10))
	}
}

// safeName reports whether a limit's name can go in a quoted header
// parameter as it is (the service is not trusted to send header-safe text).
func safeName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func unitSeconds(u rlsv3.RateLimitResponse_RateLimit_Unit) int64 {
	switch u {
	case rlsv3.RateLimitResponse_RateLimit_SECOND:
		return 1
	case rlsv3.RateLimitResponse_RateLimit_MINUTE:
		return 60
	case rlsv3.RateLimitResponse_RateLimit_HOUR:
		return 3600
	case rlsv3.RateLimitResponse_RateLimit_DAY:
		return 86400
	case rlsv3.RateLimitResponse_RateLimit_WEEK:
		return 7 * 86400
	case rlsv3.RateLimitResponse_RateLimit_MONTH:
		return 30 * 86400
	case rlsv3.RateLimitResponse_RateLimit_YEAR:
		return 365 * 86400
	}
	return 0
}

// flag sets a response flag on the request's stream, when there is one.
func flag(r *http.Request, fl httpfilter.Flag) {
	if st := httpfilter.FromContext(r.Context()); st != nil {
		st.SetFlag(fl)
	}
}

// localReply answers without the upstream, with an empty body as Envoy's
// rate limit replies have.
func localReply(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
}

var (
	_ httpfilter.Filter = (*Filter)(nil)
	_ filters.Closer    = (*Filter)(nil)
)
