package httpconn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// grpcRoutes send gRPC requests (the grpc: {} match) to cluster c and
// answer anything else 404 locally.
const grpcRoutes = `[{match: {prefix: "/", grpc: {}}, route: {cluster: c}},
 {match: {prefix: "/"}, direct_response: {status: 404, body: {inline_string: "not grpc"}}}]`

// TestGRPCThroughSluice runs grpc-go's TestService through sluice: each
// call mode, metadata and trailers, status codes, large messages and
// cancellation from either side.
func TestGRPCThroughSluice(t *testing.T) {
	svc := &testService{}
	logPath := t.TempDir() + "/access.log"
	s := sluicetest.Start(t, hcmConfig(startGRPC(t, svc), "access_log: [{path: "+logPath+", format: \"%REQ(:PATH)% %GRPC_STATUS%\\n\"}]", grpcRoutes)+h2Cluster)
	c := dialGRPC(t, s.Addr("l"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("unary with header and trailer", func(t *testing.T) {
		var hdr, trl metadata.MD
		resp, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: 10, Payload: &testpb.Payload{Body: make([]byte, 3)}},
			grpc.Header(&hdr), grpc.Trailer(&trl))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Payload.Body) != 10 || resp.Username != "3" {
			t.Fatalf("got %d bytes, %q", len(resp.Payload.Body), resp.Username)
		}
		if hdr.Get("x-header")[0] != "h1" || len(trl.Get("x-trailer")) != 1 || trl.Get("x-trailer")[0] != "t1" {
			t.Fatalf("header %v trailer %v", hdr, trl)
		}
	})
	t.Run("status and message", func(t *testing.T) {
		for _, code := range []codes.Code{codes.NotFound, codes.Unavailable, codes.ResourceExhausted} {
			_, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(code), Message: "why: ünïcode 100%"}})
			wantCode(t, err, code, "why: ünïcode 100%")
		}
	})
	t.Run("server streaming", func(t *testing.T) {
		st, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 1}, {Size: 2}, {Size: 3}, {Size: 70000}}})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for {
			m, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(m.Payload.Body))
		}
		if len(sizes) != 4 || sizes[3] != 70000 {
			t.Fatalf("got sizes %v", sizes)
		}
	})
	t.Run("client streaming", func(t *testing.T) {
		st, err := c.StreamingInputCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{5, 100, 40000} {
			if err := st.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, n)}}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := st.CloseAndRecv()
		if err != nil || resp.AggregatedPayloadSize != 40105 {
			t.Fatalf("got %v %v", resp, err)
		}
	})
	t.Run("bidi streaming", func(t *testing.T) {
		st, err := c.FullDuplexCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 5; i++ { // lock-step: each answer before the next request
			if err := st.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: int32(i)}}}); err != nil {
				t.Fatal(err)
			}
			m, err := st.Recv()
			if err != nil || len(m.Payload.Body) != i {
				t.Fatalf("message %d: %v %v", i, m, err)
			}
		}
		st.CloseSend()
		if _, err := st.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("want EOF, got %v", err)
		}
	})
	t.Run("large messages", func(t *testing.T) {
		const big = 5 << 20
		resp, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: big, Payload: &testpb.Payload{Body: make([]byte, big+7)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Payload.Body) != big || resp.Username != "7" { // (5 MiB + 7) % 10
			t.Fatalf("got %d bytes, %q", len(resp.Payload.Body), resp.Username)
		}
	})
	t.Run("client cancels", func(t *testing.T) {
		before := svc.cancelled.Load()
		cctx, ccancel := context.WithCancel(ctx)
		st, err := c.FullDuplexCall(cctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 1}}})
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		ccancel()
		_, err = st.Recv()
		wantCode(t, err, codes.Canceled, "")
		// The cancel crossed sluice: the server's call ended too (RST_STREAM).
		if !poll.Until(10*time.Second, func() bool { return svc.cancelled.Load() > before }) {
			t.Fatal("the server never saw the cancel")
		}
	})
	t.Run("server cancels", func(t *testing.T) {
		// The server ends the call while the client's side is still open:
		// its status must come through at once, not at the route timeout
		// (15s), which this call's 5s deadline would turn into a failure.
		sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
		defer scancel()
		st, err := c.FullDuplexCall(sctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 1}}})
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		st.Send(&testpb.StreamingOutputCallRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.Aborted), Message: "server gave up"}})
		_, err = st.Recv()
		wantCode(t, err, codes.Aborted, "server gave up")
	})
	t.Run("grpc status in the access log", func(t *testing.T) {
		poll.Eventually(t, 10*time.Second, func() bool {
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), "/grpc.testing.TestService/UnaryCall OK\n") &&
				strings.Contains(string(b), "/grpc.testing.TestService/UnaryCall NotFound\n") &&
				strings.Contains(string(b), "/grpc.testing.TestService/FullDuplexCall Aborted\n")
		}, "no gRPC statuses in the access log:\n%s", func() any { b, _ := os.ReadFile(logPath); return string(b) })
	})
	t.Run("grpc route match", func(t *testing.T) {
		resp, body := get(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall")
		if resp.StatusCode != http.StatusNotFound || body != "not grpc" {
			t.Fatalf("a plain GET got %d %q", resp.StatusCode, body)
		}
	})
}

// TestGRPCNoUpstream checks that a gRPC client sees UNAVAILABLE, with
// Envoy's local reply text, when sluice cannot reach the upstream: local
// replies to gRPC requests are trailers-only responses.
func TestGRPCNoUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	s := sluicetest.Start(t, hcmConfig(dead, "", grpcRoutes)+h2Cluster)
	c := dialGRPC(t, s.Addr("l"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.UnaryCall(ctx, &testpb.SimpleRequest{})
	wantCode(t, err, codes.Unavailable, "")
}

// TestGRPCTimeout checks Envoy's gRPC deadline rules on a route: the
// client's grpc-timeout capped by max_grpc_timeout or by
// max_stream_duration.grpc_timeout_header_max, and taken as the route
// timeout less grpc_timeout_offset: the call ends before the client's own
// deadline, and the server sees it end.
func TestGRPCTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, action string
		deadline     time.Duration
		sluiceOnly   bool // sluice sends no grpc-timeout of its own: only its timer can end the call
	}{
		{"max_grpc_timeout caps", "max_grpc_timeout: 200ms", time.Hour, false},
		{"grpc_timeout_header_max caps", "timeout: 0s, max_stream_duration: {grpc_timeout_header_max: 200ms}", time.Hour, true},
		{"grpc_timeout_offset", "max_grpc_timeout: 0s, grpc_timeout_offset: 2s", 3 * time.Second, false},
		{"grpc_timeout_header_offset", "timeout: 0s, max_stream_duration: {grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 2s}", 3 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &testService{}
			routes := `[{match: {prefix: "/", grpc: {}}, route: {cluster: c, ` + tc.action + `}}]`
			s := sluicetest.Start(t, hcmConfig(startGRPC(t, svc), "", routes)+h2Cluster)
			c := dialGRPC(t, s.Addr("l"))
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			_, err := c.EmptyCall(ctx, &testpb.Empty{})
			// sluice's timer and the server's, set by the grpc-timeout sluice
			// sent, race: either ends the call, before the client's deadline.
			if st, _ := status.FromError(err); ctx.Err() != nil ||
				(st.Code() != codes.Unavailable && st.Code() != codes.DeadlineExceeded) {
				t.Fatalf("got %v (client deadline passed: %v)", err, ctx.Err() != nil)
			}
			if tc.sluiceOnly {
				// The grpc-timeout set the stream's max duration: Envoy ends it
				// as the connection manager's, DEADLINE_EXCEEDED.
				wantCode(t, err, codes.DeadlineExceeded, "downstream duration timeout")
				s.WaitCounter("http.ingress.downstream_rq_max_duration_reached", 1, 5*time.Second)
			}
			if !poll.Until(10*time.Second, func() bool { return svc.cancelled.Load() == 1 }) {
				t.Fatal("the server's call did not end")
			}
		})
	}
}
