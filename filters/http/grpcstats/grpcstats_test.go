package grpcstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	_ "github.com/sluice-proxy/sluice/filters/http/grpcstats"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// service answers UnaryCall (or fails it with the asked status) and
// echoes FullDuplexCall messages one for one.
type service struct {
	testpb.UnimplementedTestServiceServer
}

func (service) UnaryCall(_ context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	return &testpb.SimpleResponse{}, nil
}

func (service) FullDuplexCall(st grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		_, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := st.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, 100)}}); err != nil {
			return err
		}
	}
}

func serve(t *testing.T) net.Addr {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, service{})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr()
}

func dial(t *testing.T, s *sluicetest.Sluice) testpb.TestServiceClient {
	cc, err := grpc.NewClient(s.Addr("l"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return testpb.NewTestServiceClient(cc)
}

func start(t *testing.T, filterCfg string) (testpb.TestServiceClient, *sluicetest.Sluice) {
	addr := serve(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: in
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters:
            - grpc_stats: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
`, filterCfg, addr))
	return dial(t, s), s
}

// calls makes two good unary calls, one failing with NOT_FOUND and a
// bidi call of three messages each way.
func calls(t *testing.T, c testpb.TestServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: 5}}); status.Code(err) != codes.NotFound {
		t.Fatalf("got %v", err)
	}
	st, err := c.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		st.Send(&testpb.StreamingOutputCallRequest{})
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	st.CloseSend()
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}

func TestPerMethodStats(t *testing.T) {
	c, s := start(t, "{stats_for_all_methods: true, enable_upstream_stats: true}")
	calls(t, c)
	const u, b = "cluster.c.grpc.grpc.testing.TestService.UnaryCall.", "cluster.c.grpc.grpc.testing.TestService.FullDuplexCall."
	s.WaitCounter(b+"total", 1, 5*time.Second)
	for name, want := range map[string]uint64{
		u + "success": 2, u + "failure": 1, u + "total": 3, u + "request_message_count": 3, u + "response_message_count": 2,
		b + "success": 1, b + "total": 1, b + "request_message_count": 3, b + "response_message_count": 3,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestDefaultAndAllowlist(t *testing.T) {
	c, s := start(t, "{}")
	calls(t, c)
	s.WaitCounter("cluster.c.grpc.total", 4, 5*time.Second)
	if got := s.Counter("cluster.c.grpc.failure"); got != 1 {
		t.Errorf("failure %d", got)
	}
	c, s = start(t, "{individual_method_stats_allowlist: {services: [{name: grpc.testing.TestService, method_names: [FullDuplexCall]}]}, replace_dots_in_grpc_service_name: true}")
	calls(t, c)
	s.WaitCounter("cluster.c.grpc.grpc_testing_TestService.FullDuplexCall.success", 1, 5*time.Second)
	s.WaitCounter("cluster.c.grpc.total", 3, 5*time.Second)
}

// TestEnvoyConfig loads grpc_stats from an Envoy bootstrap.
func TestEnvoyConfig(t *testing.T) {
	host, port, _ := net.SplitHostPort(serve(t).String())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(`
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters:
          - name: envoy.filters.http.grpc_stats
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig
              emit_filter_state: true
              individual_method_stats_allowlist: {services: [{name: grpc.testing.TestService, method_names: [UnaryCall]}]}
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %s}}}}]}]
`, host, port))
	calls(t, dial(t, s))
	s.WaitCounter("cluster.c.grpc.grpc.testing.TestService.UnaryCall.total", 3, 5*time.Second)
	s.WaitCounter("cluster.c.grpc.total", 1, 5*time.Second)
}
