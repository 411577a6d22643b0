package httpconn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxMsg lets the gRPC peers carry the large-message cases (5 MiB).
const maxMsg = 16 << 20

// testService is grpc-go's interop TestService, served by a real grpc-go
// server: UnaryCall answers the requested size or status and sets a
// header and a trailer; the streaming calls follow the interop contract;
// EmptyCall waits until the call ends (for deadlines and cancellation).
type testService struct {
	testpb.UnimplementedTestServiceServer
	cancelled atomic.Int64 // calls that saw their context end before they did
}

func (s *testService) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	<-ctx.Done()
	s.cancelled.Add(1)
	return nil, ctx.Err()
}

func (s *testService) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	grpc.SetHeader(ctx, metadata.Pairs("x-header", "h1"))
	grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t1"))
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	got := int32(len(in.GetPayload().GetBody()))
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, in.ResponseSize)}, Username: string(rune('0' + got%10))}, nil
}

func (s *testService) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, st grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range in.ResponseParameters {
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *testService) StreamingInputCall(st grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	var n int32
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return st.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: n})
		}
		if err != nil {
			return err
		}
		n += int32(len(m.GetPayload().GetBody()))
	}
}

// FullDuplexCall echoes each request's sizes; a request whose
// response_status is set ends the call with that status (the server
// cancelling), and a call the client cancels is counted.
func (s *testService) FullDuplexCall(st grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if st.Context().Err() != nil {
				s.cancelled.Add(1)
			}
			return err
		}
		if rs := m.GetResponseStatus(); rs != nil && rs.Code != 0 {
			return status.Error(codes.Code(rs.Code), rs.Message)
		}
		for _, p := range m.ResponseParameters {
			if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
				return err
			}
		}
	}
}

// startGRPC serves svc on a free loopback port (h2c, as gRPC speaks
// without TLS) and returns its address.
func startGRPC(t testing.TB, svc testpb.TestServiceServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg))
	testpb.RegisterTestServiceServer(srv, svc)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// dialGRPC returns a TestService client over one connection to addr.
func dialGRPC(t testing.TB, addr string) testpb.TestServiceClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return testpb.NewTestServiceClient(cc)
}

// h2Cluster makes the test cluster speak HTTP/2 (h2c) upstream, as gRPC
// needs.
const h2Cluster = `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
`

// wantCode fails t unless err carries code.
func wantCode(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || (msg != "" && st.Message() != msg) {
		t.Fatalf("got %v, want %v %q", err, code, msg)
	}
}
