package xds

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/internal/tokenbucket"
)

// stream is one gRPC xDS stream to a management cluster: ADS (every type
// it carries) or one type's own service.
type stream struct {
	name      string // "ads", "cds", "lds", "eds": logs
	path      string // the ApiConfigSource's bootstrap path, for errors
	cluster   string // envoy_grpc.cluster_name
	authority string
	maxMsg    int // bytes of one response
	delta     bool
	types     []string
	// rl is the source's rate_limit_settings (ratelimit.go); bucket is
	// made on the first stream and kept across reconnects.
	rl     *rateLimit
	bucket *tokenbucket.Bucket
}

// newStream checks an ApiConfigSource: GRPC or DELTA_GRPC, V3, exactly one
// envoy_grpc service.
func newStream(name string, api *corev3.ApiConfigSource, path string) (*stream, error) {
	s := &stream{name: name, path: path + ".grpc_services[0]"}
	switch api.GetApiType() {
	case corev3.ApiConfigSource_GRPC:
	case corev3.ApiConfigSource_DELTA_GRPC:
		s.delta = true
	default:
		return nil, fmt.Errorf("%s.api_type: %s is not supported by sluice (GRPC, DELTA_GRPC)", path, api.GetApiType())
	}
	if v := api.GetTransportApiVersion(); v != corev3.ApiVersion_V3 {
		return nil, fmt.Errorf("%s.transport_api_version: %s is not supported by sluice (V3)", path, v)
	}
	gs := api.GetGrpcServices()
	if len(gs) != 1 || gs[0].GetEnvoyGrpc() == nil {
		return nil, fmt.Errorf("%s.grpc_services: sluice needs exactly one, with envoy_grpc", path)
	}
	s.cluster = gs[0].GetEnvoyGrpc().GetClusterName()
	s.authority = gs[0].GetEnvoyGrpc().GetAuthority()
	s.maxMsg = 1 << 30
	if n := gs[0].GetEnvoyGrpc().GetMaxReceiveMessageLength().GetValue(); n > 0 {
		s.maxMsg = int(n)
	}
	if s.authority == "" {
		s.authority = s.cluster
	}
	rl, err := newRateLimit(api.GetRateLimitSettings(), path)
	if err != nil {
		return nil, err
	}
	s.rl = rl
	return s, nil
}

// run keeps the stream open until ctx ends, reconnecting with exponential
// backoff and full jitter; a stream that got a response starts the backoff
// over. The resources already applied keep serving meanwhile.
func (s *stream) run(ctx context.Context, c *Client) {
	attempt := 0
	for {
		var got bool
		var err error
		if s.delta {
			got, err = s.deltaOnce(ctx, c)
		} else {
			got, err = s.sotwOnce(ctx, c)
		}
		if ctx.Err() != nil {
			return
		}
		if got {
			attempt = 0
		}
		for _, t := range s.types {
			if st := typeStats(c.o.Stats, t); st != nil {
				st.attempt.Inc()
				st.failure.Inc()
			}
		}
		d := backoff(c.o.BackoffBase, c.o.BackoffMax, attempt)
		attempt++
		c.log.Warn("xDS stream closed; the last good config keeps serving", "stream", s.name,
			"cluster", s.cluster, "err", err, "retry_in", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is a delay drawn uniformly up to min(max, base·2^attempt).
func backoff(base, maxD time.Duration, attempt int) time.Duration {
	d := maxD
	if attempt < 30 && base<<attempt < maxD {
		d = base << attempt
	}
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

// dial opens a gRPC connection to the management cluster through sluice's
// own cluster (its hosts, health and upstream_cx_* stats, and its
// transport_socket: TLS or mTLS to the control plane happens in
// cluster.Connect, so gRPC's own credentials stay insecure). A connection per
// attempt keeps reconnecting under the stream's backoff alone.
func (s *stream) dial(c *Client) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+s.cluster,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority(s.authority),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(s.maxMsg)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			cl := c.o.Clusters.Get(s.cluster)
			if cl == nil {
				return nil, fmt.Errorf("xds: no cluster %q for the management server", s.cluster)
			}
			return cl.Connect(ctx, 0, false)
		}))
}

// connected counts an open stream: control_plane.connected_state is 1
// while any stream to a management server is open.
func (c *Client) connected(on bool) {
	d := int64(-1)
	if on {
		d = 1
	}
	n := c.streamsOpen.Add(d)
	if n > 0 {
		c.cp.connected.Set(1)
	} else {
		c.cp.connected.Set(0)
	}
}

// decode unpacks a response's resources, which must all be of typeURL.
func decode(typeURL string, anys []*anypb.Any) ([]proto.Message, error) {
	out := make([]proto.Message, 0, len(anys))
	for i, a := range anys {
		m, err := decodeOne(typeURL, a)
		if err != nil {
			return nil, fmt.Errorf("resources[%d]: %v", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// decodeOne unpacks one resource of typeURL.
func decodeOne(typeURL string, a *anypb.Any) (proto.Message, error) {
	h := handler(typeURL)
	if h == nil {
		return nil, fmt.Errorf("type %s is not supported by sluice", typeURL)
	}
	if a.GetTypeUrl() != typeURL {
		return nil, fmt.Errorf("type %s in a response of %s", a.GetTypeUrl(), typeURL)
	}
	m := h.New()
	if err := a.UnmarshalTo(m); err != nil {
		return nil, err
	}
	return m, nil
}

var errStreamDone = errors.New("stream closed by the server")
