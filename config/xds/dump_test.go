package xds_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/sluice-proxy/sluice/admin"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/xds"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestConfigDump: the admin's /config_dump in Envoy's format, from the
// bootstrap and the resources a control plane sent, with ?resource=,
// ?mask= and ?include_eds; ?format=sluice keeps sluice's own view.
func TestConfigDump(t *testing.T) {
	r := testenv.Redis(t)
	cp := startControlPlane(t)
	l1 := "127.0.0.1:" + itoa(testenv.FreePort(t))
	cp.set("v7", map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("redis", adsSource())},
		resource.EndpointType: {cla("redis", r.Addr())},
		resource.ListenerType: {tcpListener("l1", l1, "redis")},
	})
	s := startSluice(t, bootstrap(cp, true, false))
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") != "" }, "l1 never started")
	adm, err := admin.Start("127.0.0.1:0", s.srv, slog.New(slog.DiscardHandler), admin.WithConfigDump(s.xds.ConfigDump))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	get := func(q string) (int, string) {
		resp, err := http.Get("http://" + adm.Addr() + "/config_dump" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	type dump struct {
		Configs []map[string]any `json:"configs"`
	}
	parse := func(body string) dump {
		var d dump
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return d
	}
	types := func(d dump) string {
		var out []string
		for _, c := range d.Configs {
			out = append(out, strings.TrimPrefix(c["@type"].(string), "type.googleapis.com/envoy.admin.v3."))
		}
		return strings.Join(out, ",")
	}

	_, body := get("")
	d := parse(body)
	if got := types(d); got != "BootstrapConfigDump,ClustersConfigDump,ListenersConfigDump" {
		t.Fatalf("types %s:\n%s", got, body)
	}
	cl := d.Configs[1]
	if cl["version_info"] != "v7" || len(cl["static_clusters"].([]any)) != 1 || len(cl["dynamic_active_clusters"].([]any)) != 1 {
		t.Errorf("clusters dump: %v", cl)
	}
	dyn := cl["dynamic_active_clusters"].([]any)[0].(map[string]any)
	if dyn["version_info"] != "v7" || dyn["last_updated"] == nil || dyn["cluster"].(map[string]any)["name"] != "redis" {
		t.Errorf("dynamic cluster: %v", dyn)
	}
	dl := d.Configs[2]["dynamic_listeners"].([]any)[0].(map[string]any)
	if dl["name"] != "l1" || dl["active_state"].(map[string]any)["version_info"] != "v7" {
		t.Errorf("dynamic listener: %v", dl)
	}

	_, body = get("?include_eds")
	if got := types(parse(body)); !strings.HasSuffix(got, ",EndpointsConfigDump") || !strings.Contains(body, r.Addr()[strings.LastIndexByte(r.Addr(), ':')+1:]) {
		t.Errorf("include_eds: %s\n%s", got, body)
	}

	_, body = get("?resource=dynamic_active_clusters&mask=cluster.name,version_info")
	d = parse(body)
	if len(d.Configs) != 1 || d.Configs[0]["@type"] != "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster" ||
		d.Configs[0]["last_updated"] != nil || d.Configs[0]["cluster"].(map[string]any)["connect_timeout"] != nil ||
		d.Configs[0]["cluster"].(map[string]any)["name"] != "redis" {
		t.Errorf("resource and mask: %s", body)
	}
	if code, _ := get("?resource=nope"); code != http.StatusNotFound {
		t.Errorf("unknown resource: %d", code)
	}
	if _, body = get("?format=sluice"); !strings.Contains(body, `"listeners"`) || strings.Contains(body, "@type") {
		t.Errorf("format=sluice: %s", body)
	}
}

// TestStaticConfigDump: a config in sluice's own format dumps in Envoy's
// format when Envoy's form can carry it, and reports false when not.
func TestStaticConfigDump(t *testing.T) {
	const base = `listeners:
  - name: l
    address: 127.0.0.1:16379
    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters: [{name: c, endpoints: ["127.0.0.1:6379"]}]
`
	cfg, err := config.Parse("s.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	b, ok, err := xds.StaticConfigDump(cfg, "static_listeners", "listener.name", false)
	var d struct {
		Configs []struct {
			Type     string `json:"@type"`
			Listener map[string]any
		}
	}
	if !ok || err != nil || json.Unmarshal(b, &d) != nil || len(d.Configs) != 1 ||
		d.Configs[0].Type != "type.googleapis.com/envoy.admin.v3.ListenersConfigDump.StaticListener" ||
		d.Configs[0].Listener["name"] != "l" || d.Configs[0].Listener["filter_chains"] != nil {
		t.Fatalf("%v %v:\n%s", ok, err, b)
	}
	cfg, err = config.Parse("s.yaml", []byte(base+"drain_timeout: 5s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := xds.StaticConfigDump(cfg, "", "", false); ok {
		t.Fatal("drain_timeout has no Envoy field, yet the config converted")
	}
}
