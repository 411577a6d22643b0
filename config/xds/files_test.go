package xds_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// cdsFile is a DiscoveryResponse of one static cluster, in YAML.
func cdsFile(version, endpoint string) string {
	return fmt.Sprintf(`version_info: "%s"
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: redis
  type: STATIC
  connect_timeout: 1s
  load_assignment:
    cluster_name: redis
    endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`, version, endpoint)
}

// ldsFile is a DiscoveryResponse of one tcp_proxy listener, in JSON.
func ldsFile(version, port string) string {
	return fmt.Sprintf(`{"version_info": "%s", "resources": [{
  "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
  "name": "l1",
  "address": {"socket_address": {"address": "127.0.0.1", "port_value": %s}},
  "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    "stat_prefix": "l1", "cluster": "redis"}}]}]}]}
`, version, port)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rename moves data into path atomically, as Envoy's users do.
func rename(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestFiles: lds_config and cds_config from path_config_source files under
// live traffic: an in-place write and an atomic rename are applied, bad
// files are refused and counted while the previous config serves.
func TestFiles(t *testing.T) {
	a, b := testenv.Redis(t), testenv.Redis(t)
	dir := t.TempDir()
	port := itoa(testenv.FreePort(t))
	l1 := "127.0.0.1:" + port
	cds, lds := filepath.Join(dir, "cds.yaml"), filepath.Join(dir, "lds.json")
	writeFile(t, cds, cdsFile("1", itoa(a.Port())))
	writeFile(t, lds, ldsFile("1", port))
	s := startSluiceAt(t, `node: {id: files, cluster: test}
dynamic_resources:
  cds_config: {path_config_source: {path: cds.yaml, watched_directory: {path: .}}, resource_api_version: V3}
  lds_config: {path_config_source: {path: lds.json}, resource_api_version: V3}
`, filepath.Join(dir, "envoy.yaml"))
	<-s.xds.Ready()
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(a.Port())
	}, "l1 never served from the files")
	s.waitCounter("cluster_manager.cds.update_success", 1)
	s.waitCounter("listener_manager.lds.update_success", 1)
	ld := startLoad(t, l1, 4)
	poll.Eventually(t, 20*time.Second, func() bool { return ld.ok.Load() > 20 }, "no traffic through l1")

	// Written in place: applied once complete.
	writeFile(t, cds, cdsFile("2", itoa(b.Port())))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(b.Port())
	}, "the in-place write never applied")
	s.waitCounter("cluster_manager.cds.update_success", 2)
	if v := s.gauge("cluster_manager.cds.version"); v != int64(xxhash.Sum64String("2")) {
		t.Errorf("cluster_manager.cds.version = %d, want xxHash64(\"2\")", v)
	}

	// A bad file is refused with its reason; the previous config serves.
	writeFile(t, cds, cdsFile("3", itoa(a.Port()))+"  lb_policy: NOPE\n")
	s.waitCounter("cluster_manager.cds.update_rejected", 1)
	rename(t, lds, `{"version_info": "2", "resources": [{"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "l1", "bogus": 1}]}`)
	s.waitCounter("listener_manager.lds.update_rejected", 1)
	if v := s.gauge("cluster_manager.cds.version"); v != int64(xxhash.Sum64String("2")) {
		t.Errorf("cluster_manager.cds.version moved on a refused file")
	}
	n := ld.ok.Load()
	poll.Eventually(t, 20*time.Second, func() bool { return ld.ok.Load() > n+50 }, "no traffic after the bad files")
	if p, err := backendPort(l1); err != nil || p != itoa(b.Port()) {
		t.Errorf("after the bad file: %v %v, want b", p, err)
	}

	// Moved into place: applied.
	rename(t, cds, cdsFile("4", itoa(a.Port())))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(a.Port())
	}, "the renamed file never applied")
	ld.halt()
	if f := ld.failures(); len(f) > 0 {
		t.Errorf("%d requests failed: %v", len(f), f[:min(len(f), 5)])
	}

	// An empty file is refused (it would drain every listener); an
	// explicit empty set drains them, as in Envoy.
	writeFile(t, lds, "")
	s.waitCounter("listener_manager.lds.update_rejected", 2)
	if p, err := backendPort(l1); err != nil || p != itoa(a.Port()) {
		t.Fatalf("after an empty lds file: %v %v", p, err)
	}
	rename(t, lds, `{"version_info": "9", "resources": []}`)
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") == "" },
		"an explicit empty LDS set did not drain l1")
}

// edsFile is a DiscoveryResponse of one ClusterLoadAssignment.
func edsFile(version, name, endpoint string) string {
	return fmt.Sprintf(`version_info: "%s"
resources:
- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: %s
  endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`, version, name, endpoint)
}

// TestEDSFile: a static EDS cluster reads its endpoints from an
// eds_config path_config_source file; rewriting it moves the traffic, a
// bad one is refused and counted in cluster.<name>.update_rejected.
func TestEDSFile(t *testing.T) {
	a, b := testenv.Redis(t), testenv.Redis(t)
	dir := t.TempDir()
	port := itoa(testenv.FreePort(t))
	eds := filepath.Join(dir, "eds.yaml")
	writeFile(t, eds, edsFile("1", "redis", itoa(a.Port())))
	s := startSluiceAt(t, fmt.Sprintf(`static_resources:
  listeners:
  - name: l1
    address: {socket_address: {address: 127.0.0.1, port_value: %s}}
    filter_chains: [{filters: [{name: tcp, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: l1, cluster: redis}}]}]
  clusters:
  - name: redis
    type: EDS
    connect_timeout: 1s
    eds_cluster_config: {eds_config: {path_config_source: {path: eds.yaml}, resource_api_version: V3}}
`, port), filepath.Join(dir, "envoy.yaml"))
	l1 := "127.0.0.1:" + port
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(a.Port())
	}, "l1 never reached the endpoint from eds.yaml")
	rename(t, eds, edsFile("2", "redis", itoa(b.Port())))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(b.Port())
	}, "the new eds.yaml never applied")
	s.waitCounter("cluster.redis.update_success", 2)
	rename(t, eds, edsFile("3", "redis", "0"))
	s.waitCounter("cluster.redis.update_rejected", 1)
	if p, err := backendPort(l1); err != nil || p != itoa(b.Port()) {
		t.Errorf("after a bad eds.yaml: %v %v, want b", p, err)
	}
}

// TestDynamicEDSFile: clusters from a CDS file whose endpoints come from an
// EDS file (eds_config.path_config_source): the listener waits for them,
// then follows the file.
func TestDynamicEDSFile(t *testing.T) {
	a, b := testenv.Redis(t), testenv.Redis(t)
	dir := t.TempDir()
	port := itoa(testenv.FreePort(t))
	l1 := "127.0.0.1:" + port
	writeFile(t, filepath.Join(dir, "cds.yaml"), `version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: redis
  type: EDS
  connect_timeout: 1s
  eds_cluster_config: {eds_config: {path_config_source: {path: eds.yaml}}}
`)
	writeFile(t, filepath.Join(dir, "lds.json"), ldsFile("1", port))
	startSluiceAt(t, `dynamic_resources:
  cds_config: {path_config_source: {path: cds.yaml}}
  lds_config: {path_config_source: {path: lds.json}}
`, filepath.Join(dir, "envoy.yaml"))
	eds := filepath.Join(dir, "eds.yaml")
	rename(t, eds, edsFile("1", "redis", itoa(a.Port())))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(a.Port())
	}, "l1 never served with the endpoints of eds.yaml")
	rename(t, eds, edsFile("2", "redis", itoa(b.Port())))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(b.Port())
	}, "the new eds.yaml never applied")
}
