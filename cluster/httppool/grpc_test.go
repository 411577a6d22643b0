package httppool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
)

// grpcHealthServer serves grpc.health.v1 with grpc-go on a loopback port.
func grpcHealthServer(t *testing.T) (string, *health.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ln) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return ln.Addr().String(), hs
}

// readFrame reads one gRPC message from r.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	_, err := io.ReadFull(r, msg)
	return msg, err
}

// TestGRPCGoServer drives a grpc-go server through RoundTrip with gRPC
// framing: a unary call, a server stream whose messages arrive as the
// server sends them (the body is streamed, not held), and a stream the
// client cancels (counted as upstream_rq_tx_reset).
func TestGRPCGoServer(t *testing.T) {
	addr, hs := grpcHealthServer(t)
	hs.SetServingStatus("svc", healthpb.HealthCheckResponse_SERVING)
	e := newEnv(t, clusterYAML(h2c, addr), Options{})
	p := e.pool("c")

	in, _ := proto.Marshal(&healthpb.HealthCheckRequest{Service: "svc"})
	out, err := grpcUnary(p, "/grpc.health.v1.Health/Check", in)
	if err != nil {
		t.Fatal(err)
	}
	var resp healthpb.HealthCheckResponse
	if err := proto.Unmarshal(out, &resp); err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check: %v %v", resp.Status, err)
	}
	if _, err := grpcUnary(p, "/grpc.health.v1.Health/Check", mustMarshal(&healthpb.HealthCheckRequest{Service: "nope"})); err == nil {
		t.Error("Check of an unknown service succeeded")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://upstream/grpc.health.v1.Health/Watch", bytes.NewReader(grpcFrame(in)))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	wr, err := p.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []healthpb.HealthCheckResponse_ServingStatus{healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING} {
		msg, err := readFrame(wr.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(msg, &resp); err != nil || resp.Status != want {
			t.Fatalf("Watch: %v %v, want %v", resp.Status, err, want)
		}
		hs.SetServingStatus("svc", healthpb.HealthCheckResponse_NOT_SERVING)
	}
	cancel()
	if _, err := readFrame(wr.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v", err)
	}
	wr.Body.Close()
	e.eventually("the canceled stream counted", func() bool { return e.counter("cluster.c.upstream_rq_tx_reset") == 1 })
	if got := e.counter("cluster.c.upstream_cx_http2_total"); got != 1 {
		t.Errorf("upstream_cx_http2_total = %d", got)
	}
	if h := e.m.Get("c").Hosts()[0]; h.RqActive.Load() != 0 || h.RqError.Load() != 0 {
		t.Errorf("host rq_active %d rq_error %d", h.RqActive.Load(), h.RqError.Load())
	}
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
