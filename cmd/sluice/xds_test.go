package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateDynamicResources: validate checks dynamic_resources as a
// start would: a supported bootstrap passes, an api_type sluice lacks and a
// management cluster that is not a static cluster are refused with paths.
func TestValidateDynamicResources(t *testing.T) {
	const xdsCluster = `
static_resources:
  clusters:
  - name: xds
    type: STATIC
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 18000}}}}]}]
`
	for _, tc := range []struct{ name, yaml, want string }{
		{"ok", `node: {id: n}
dynamic_resources:
  ads_config: {api_type: DELTA_GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
  cds_config: {ads: {}, resource_api_version: V3}
  lds_config: {ads: {}, resource_api_version: V3}
` + xdsCluster, ": OK"},
		{"rest", `dynamic_resources:
  cds_config: {api_config_source: {api_type: REST, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}
` + xdsCluster, "dynamic_resources.cds_config.api_config_source.api_type: REST is not supported by sluice"},
		{"no such cluster", `dynamic_resources:
  ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: cp}}]}
  lds_config: {ads: {}}
` + xdsCluster, `dynamic_resources.ads_config.grpc_services[0]: envoy_grpc.cluster_name "cp" is not a static cluster`},
		{"ads missing", `dynamic_resources:
  lds_config: {ads: {}}
` + xdsCluster, "dynamic_resources.lds_config.ads: dynamic_resources.ads_config is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "envoy.yaml")
			os.WriteFile(file, []byte(tc.yaml), 0o644)
			var out, errb bytes.Buffer
			code := run([]string{"validate", "-c", file}, &out, &errb)
			text := out.String() + errb.String()
			if !strings.Contains(text, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant %q", code, text, tc.want)
			}
			if (tc.want == ": OK") != (code == 0) {
				t.Fatalf("exit %d:\n%s", code, text)
			}
		})
	}
}

// TestConvert: sluice convert prints an Envoy bootstrap that validate
// accepts, and back; a bad --to is a usage error.
func TestConvert(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"convert", "-c", "../../testdata/envoy/redis.yaml", "--to", "sluice"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	sl := filepath.Join(dir, "sluice.yaml")
	os.WriteFile(sl, out.Bytes(), 0o644)
	if !strings.Contains(out.String(), "redis_proxy:") {
		t.Fatalf("not sluice's form:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"convert", "-c", sl, "--to", "envoy"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy") {
		t.Fatalf("not Envoy's form:\n%s", out.String())
	}
	ev := filepath.Join(dir, "envoy.yaml")
	os.WriteFile(ev, out.Bytes(), 0o644)
	out.Reset()
	if code := run([]string{"validate", "-c", ev}, &out, &errb); code != 0 || !strings.Contains(out.String(), ": OK") {
		t.Fatalf("validate of the converted file: exit %d: %s%s", code, out.String(), errb.String())
	}
	if code := run([]string{"convert", "-c", ev, "--to", "istio"}, &out, &errb); code != 2 {
		t.Fatalf("--to istio: exit %d", code)
	}
	dyn := filepath.Join(dir, "dyn.yaml")
	os.WriteFile(dyn, []byte("dynamic_resources:\n  lds_config: {path_config_source: {path: lds.yaml}}\n"), 0o644)
	errb.Reset()
	if code := run([]string{"convert", "-c", dyn, "--to", "sluice"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "dynamic_resources: sluice's own format has no dynamic configuration") {
		t.Fatalf("dynamic_resources to sluice: exit %d: %s", code, errb.String())
	}
}
