// Package grpchttp1bridge is Envoy's gRPC HTTP/1.1 bridge HTTP filter
// (envoy.filters.http.grpc_http1_bridge): an HTTP/1.x client that cannot
// read trailers posts a gRPC request (content-type application/grpc, the
// body one length-prefixed message) and sluice sends it to an HTTP/2 gRPC
// upstream; the response is held until its trailers, then answered with a
// Content-Length, grpc-status and grpc-message as headers, and HTTP 503
// when the status is not 0. With upgrade_protobuf_to_grpc a plain
// application/x-protobuf body is framed on the way up and the frame prefix
// taken off the answer, so the client needs to know nothing of gRPC.
//
// Held bodies are bounded by 1 MiB each way (Envoy's default
// per_connection_buffer_limit_bytes): a longer request is answered 413 and
// a longer response 500 with http.<prefix>.rs_too_large, as Envoy does
// when its buffer limit is reached. Because it holds the whole response,
// the bridge only suits unary calls, as in Envoy.
package grpchttp1bridge

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters.
const Name = "grpc_http1_bridge"

// maxBuffered bounds what the bridge holds of a request or a response.
const maxBuffered = 1 << 20

// Config is Envoy's envoy.extensions.filters.http.grpc_http1_bridge.v3.Config.
type Config struct {
	// UpgradeProtobufToGrpc frames application/x-protobuf requests as
	// gRPC and unframes their responses.
	UpgradeProtobufToGrpc bool `yaml:"upgrade_protobuf_to_grpc" json:"upgrade_protobuf_to_grpc,omitempty"`
	// IgnoreQueryParameters drops the query string of bridged requests
	// (gRPC servers answer a path with a query as an unknown method).
	IgnoreQueryParameters bool `yaml:"ignore_query_parameters" json:"ignore_query_parameters,omitempty"`
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return &Filter{cfg: cfg.(*Config), env: env}, nil
		},
	})
}

// Filter is a built grpc_http1_bridge filter.
type Filter struct {
	cfg *Config
	env *httpfilter.Env
}

// Wrap bridges HTTP/1.x gRPC (and, when configured, x-protobuf) requests;
// HTTP/2 gRPC and everything else pass untouched.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		framed := false
		if f.cfg.UpgradeProtobufToGrpc && r.Header.Get("Content-Type") == "application/x-protobuf" {
			if !frameRequest(w, r) {
				return
			}
			framed = true
			if st := httpfilter.FromContext(r.Context()); st != nil {
				st.Route = nil // the content-type changed: match again (Envoy's clearRouteCache)
			}
		}
		if r.ProtoMajor >= 2 || !router.IsGRPC(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		if f.cfg.IgnoreQueryParameters {
			r.URL.RawQuery, r.URL.ForceQuery = "", false
			r.RequestURI, _, _ = strings.Cut(r.RequestURI, "?")
		}
		hw := &holdWriter{h: http.Header{}, unframe: framed}
		next.ServeHTTP(hw, r)
		hw.answer(w, f.env)
	})
}

// frameRequest reads an x-protobuf body and replaces it by one gRPC frame
// holding it; false when it answered the request (413 over the limit).
func frameRequest(w http.ResponseWriter, r *http.Request) bool {
	var msg []byte
	if r.Body != nil {
		var err error
		msg, err = io.ReadAll(io.LimitReader(r.Body, maxBuffered+1))
		r.Body.Close()
		if err != nil {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return false
		}
	}
	if len(msg) > maxBuffered {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, "Payload Too Large")
		return false
	}
	body := binary.BigEndian.AppendUint32(make([]byte, 1, 5+len(msg)), uint32(len(msg)))
	body = append(body, msg...)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.Header.Set("Content-Type", "application/grpc")
	return true
}
