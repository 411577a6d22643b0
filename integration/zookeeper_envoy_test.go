package integration

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestZooKeeperEnvoyBootstrap: Envoy's documented zookeeper_proxy config,
// with an rbac metadata permission on its metadata, run by sluice against
// ZooKeeper 3.8.
func TestZooKeeperEnvoyBootstrap(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(`
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              no-deletes:
                permissions:
                - metadata:
                    filter: envoy.filters.network.zookeeper_proxy
                    path: [{key: opname}]
                    value: {string_match: {exact: delete}}
                principals: [{any: true}]
      - name: envoy.filters.network.zookeeper_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy
          stat_prefix: zookeeper
          enable_per_opcode_request_bytes_metrics: true
          enable_per_opcode_response_bytes_metrics: true
          enable_per_opcode_decoder_error_metrics: true
          enable_latency_threshold_metrics: true
          default_latency_threshold: "0.1s"
          latency_threshold_overrides:
          - {opcode: Create, threshold: "0.15s"}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: local_zk_server
  clusters:
  - name: local_zk_server
    type: STATIC
    load_assignment:
      cluster_name: local_zk_server
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %d}}}
`, host, p))
	c := connect(t, s.Addr("main"), nil)
	node := fmt.Sprintf("/envoy-%d", time.Now().UnixNano())
	must(c.Create(node, []byte("v"), 0, acl))
	must2(c.Get(node))
	if err := c.Delete(node, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("delete: %v, want ErrNoAuth", err)
	}
	if ok, _ := must2(c.Exists(node)); !ok {
		t.Fatal("the refused delete happened")
	}
	for name, want := range map[string]uint64{
		"zookeeper.zookeeper.create_rq": 1, "zookeeper.zookeeper.getdata_resp": 1, "zookeeper.zookeeper.delete_rq": 1,
		"zookeeper.zookeeper.delete_resp": 1, "zookeeper.zookeeper.requests_denied": 1, "guard.rbac.denied": 1,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if s.Counter("zookeeper.zookeeper.create_rq_bytes") == 0 || s.Counter("zookeeper.zookeeper.getdata_resp_bytes") == 0 ||
		s.Counter("zookeeper.zookeeper.create_resp_fast")+s.Counter("zookeeper.zookeeper.create_resp_slow") != 1 {
		t.Error("per-opcode bytes or fast/slow not counted")
	}
}
