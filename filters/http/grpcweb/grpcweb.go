// Package grpcweb is Envoy's gRPC-Web HTTP filter
// (envoy.filters.http.grpc_web): a request with content-type
// application/grpc-web[+proto] or application/grpc-web-text[+proto] goes
// upstream as gRPC (application/grpc, te: trailers, the text form's base64
// decoded), and the gRPC response comes back as gRPC-Web: content-type
// application/grpc-web+proto (or -text+proto when the request's accept
// asked for text), the trailers as a body frame whose flag byte has the
// 0x80 bit, base64 throughout for text. A response that is not gRPC (a 503
// from a proxy in between, say) becomes a grpc-status mapped from the HTTP
// status with the body, up to 16 KiB, as grpc-message, as Envoy does.
//
// The codec is hand-written: the gRPC-Web wire format is a 5-byte frame
// prefix and a trailer block, and the Go libraries for gRPC-Web
// (improbable-eng/grpc-web) wrap a grpc-go server rather than translate a
// proxied byte stream. Unlike Envoy, which base64-encodes each whole gRPC
// message and so holds a message until it is complete, the text encoder
// streams: it encodes in 3-byte groups and pads what remains at each
// flush, so memory stays at two bytes per call however large the message,
// and each flushed piece is whole padded base64 as clients expect.
package grpcweb

import (
	"net/http"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// Name is the filter's key in http_filters.
const Name = "grpc_web"

// Config is Envoy's envoy.extensions.filters.http.grpc_web.v3.GrpcWeb,
// which has no fields.
type Config struct{}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(_ any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return &Filter{env: env}, nil
		},
	})
}

// Filter is a built grpc_web filter.
type Filter struct{ env *httpfilter.Env }

// The gRPC-Web content-types Envoy translates (exact values; parameters
// are not accepted on requests, as in Envoy).
const (
	ctWeb          = "application/grpc-web"
	ctWebProto     = "application/grpc-web+proto"
	ctWebText      = "application/grpc-web-text"
	ctWebTextProto = "application/grpc-web-text+proto"
)

// maxTextRequest bounds a grpc-web-text request body, which is decoded
// whole before it goes upstream (browsers send these bodies whole): 4/3 of
// gRPC's default 4 MiB message limit, plus its frame prefix.
const maxTextRequest = (4<<20+5)*4/3 + 4

// Wrap translates gRPC-Web calls; other requests pass untouched.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if r.URL.Path == "" || (ct != ctWeb && ct != ctWebProto && ct != ctWebText && ct != ctWebTextProto) {
			next.ServeHTTP(w, r)
			return
		}
		if ct == ctWebText || ct == ctWebTextProto {
			if !decodeTextBody(w, r) {
				return
			}
		}
		r.Header.Set("Content-Type", "application/grpc")
		r.Header.Set("Te", "trailers")
		if r.Header.Get("Grpc-Accept-Encoding") == "" {
			r.Header.Set("Grpc-Accept-Encoding", "identity,deflate,gzip")
		}
		accept := r.Header.Get("Accept")
		ww := &writer{w: w, h: http.Header{}, text: accept == ctWebText || accept == ctWebTextProto}
		next.ServeHTTP(ww, r)
		code := ww.finish()
		f.count(r, code)
	})
}

// count charges Envoy's grpc-web stats under the route's cluster:
// cluster.<c>.grpc-web.<service>.<method>.<status>|success|failure|total,
// only for calls that ended with a grpc-status.
func (f *Filter) count(r *http.Request, code string) {
	st := httpfilter.FromContext(r.Context())
	if code == "" || st == nil || st.Cluster == "" || f.env == nil || f.env.Clusters == nil {
		return
	}
	cl := f.env.Clusters.Get(st.Cluster)
	if cl == nil {
		return
	}
	sc := cl.Stats().Scope.Sub("grpc-web")
	if svc, m, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); ok && svc != "" && m != "" && !strings.Contains(m, "/") {
		sc = sc.Sub(svc).Sub(m)
	}
	sc.Counter(code).Inc()
	if code == "0" {
		sc.Counter("success").Inc()
	} else {
		sc.Counter("failure").Inc()
	}
	sc.Counter("total").Inc()
}
