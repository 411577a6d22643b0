package envoy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/all"
)

var update = flag.Bool("update", false, "rewrite golden files")

func parse(t *testing.T, yaml string) (*config.Config, []string) {
	t.Helper()
	cfg, warns, err := Parse("envoy.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg, warns
}

func TestIsBootstrap(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"static_resources", "static_resources: {}", true},
		{"dynamic_resources", "dynamic_resources: {}", true},
		{"node", "node: {id: a}", true},
		{"envoy admin", "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}", true},
		{"json", `{"staticResources": {"listeners": []}}`, true},
		{"sluice admin", "admin: {address: 127.0.0.1:9901}", false},
		{"sluice", "listeners: []\nclusters: []", false},
		{"not yaml", "{", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsBootstrap([]byte(tc.in)); got != tc.want {
				t.Fatalf("IsBootstrap(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestRefusals: each field sluice does not implement is refused with its
// path, and nothing else is reported.
func TestRefusals(t *testing.T) {
	base := func(cluster string) string {
		return `
static_resources:
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}
` + cluster
	}
	for _, tc := range []struct{ name, in, want string }{
		{"drop_overloads", base("      policy: {drop_overloads: [{category: x, drop_percentage: {numerator: 1}}]}\n"), "static_resources.clusters[0].load_assignment.policy.drop_overloads: not supported by sluice"},
		{"locality weights with maglev", base("    lb_policy: MAGLEV\n    common_lb_config: {locality_weighted_lb_config: {}}\n"), "static_resources.clusters[0].common_lb_config.locality_weighted_lb_config: only with lb_policy round_robin, least_request or random, not maglev"},
		{"transport_socket without a context", base("    transport_socket: {name: tls}\n"), "static_resources.clusters[0].transport_socket.typed_config: required"},
		{"original_dst", base("    type: ORIGINAL_DST\n    lb_policy: CLUSTER_PROVIDED\n"), `static_resources.clusters[0].type: unknown cluster type "original_dst"`},
		{"resource locator", "dynamic_resources: {lds_resources_locator: xdstp://x/envoy.config.listener.v3.Listener/*}", "dynamic_resources.lds_resources_locator: not supported by sluice"},
		{"pipe", `
static_resources:
  listeners:
  - name: l
    address: {pipe: {path: /tmp/s}}
    filter_chains: [{filters: [{name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c}}]}]
`, "static_resources.listeners[0].address.pipe: not supported by sluice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("e.yaml", []byte(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			got := err.Error()
			if !strings.HasPrefix(got, "e.yaml: "+tc.want) {
				t.Fatalf("got\n%s\nwant e.yaml: %s...", got, tc.want)
			}
		})
	}
}

// TestBadConfigs: every file under testdata/bad is refused with the lines
// of its golden file, one per problem, each naming the file and the JSON
// path. go test -update rewrites the golden files.
func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/bad files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Parse(filepath.Base(f), data)
			if err == nil {
				t.Fatal("accepted")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// FuzzBootstrap: no input makes the loader panic, and whatever it accepts
// is a config sluice's own checks accept.
func FuzzBootstrap(f *testing.F) {
	for _, dir := range []string{"testdata/bad", "../../testdata/envoy"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(tcpListener))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}
