package cluster

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/sluice-proxy/sluice/config"
)

// TestGRPCHealthCheck: grpc_health_check against a grpc-go health server
// that flips its service's status: the host leaves on NOT_SERVING (a wrong
// answer, at once) and returns on SERVING; the call carries the configured
// authority.
func TestGRPCHealthCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var authority atomic.Value
	s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if md, ok := metadata.FromIncomingContext(ctx); ok && len(md[":authority"]) > 0 {
			authority.Store(md[":authority"][0])
		}
		return h(ctx, req)
	}))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	hs.SetServingStatus("model", healthpb.HealthCheckResponse_SERVING)
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ln) }()
	defer func() { s.Stop(); <-done }()

	m, st := testManager(t)
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q], health_checks: [{interval: 20ms, timeout: 1s, healthy_threshold: 1, grpc_health_check: {service_name: model, authority: model.internal}}]}`, ln.Addr()))})
	h := m.Get("c").Hosts()[0]
	eventually(t, "the host healthy", h.Healthy)
	if a, _ := authority.Load().(string); a != "model.internal" {
		t.Errorf(":authority %q, want model.internal", a)
	}
	hs.SetServingStatus("model", healthpb.HealthCheckResponse_NOT_SERVING)
	eventually(t, "the host failed_active_hc", func() bool { return h.Flags() == FailedActiveHC })
	hs.SetServingStatus("model", healthpb.HealthCheckResponse_SERVING)
	eventually(t, "the host healthy again", h.Healthy)
	if counter(st, "cluster.c.health_check.failure") == 0 {
		t.Error("health_check.failure not counted")
	}
	if got := healthStatusOf(t, []byte{0, 0, 0, 0, 2, 0x08, 0x02}); got != 2 {
		t.Errorf("decoded status %d", got)
	}
}

func healthStatusOf(t *testing.T, b []byte) uint64 {
	t.Helper()
	s, err := healthStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzHealthStatus: no answer makes the decoder panic.
func FuzzHealthStatus(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 2, 0x08, 0x01})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) { healthStatus(b) })
}
