package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestKubernetesManifests checks deploy/kubernetes against what sluice
// itself requires (there is no API server here to validate the objects):
// the ConfigMap's config loads, the Deployment mounts it as a directory
// (only then does the kubelet update it, which the watcher applies), probes
// and scrape annotations point at the config's admin port, and the Service
// exposes the config's listener ports.
func TestKubernetesManifests(t *testing.T) {
	raw, err := os.ReadFile("../deploy/kubernetes/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			break
		}
		objs[o["kind"].(string)] = o
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service"} {
		if objs[k] == nil {
			t.Fatalf("no %s in the manifest", k)
		}
	}
	text := dig(objs["ConfigMap"], "data", "sluice.yaml").(string)
	cfg, err := config.Parse("configmap:sluice.yaml", []byte(text))
	if err != nil {
		t.Fatalf("the ConfigMap's config does not load: %v", err)
	}
	_, adminPort, _ := strings.Cut(cfg.Admin.Address, ":")
	tmpl := dig(objs["Deployment"], "spec", "template").(map[string]any)
	ann := dig(tmpl, "metadata", "annotations").(map[string]any)
	if ann["prometheus.io/port"] != adminPort || ann["prometheus.io/path"] != "/stats/prometheus" {
		t.Errorf("scrape annotations %v, admin port %s", ann, adminPort)
	}
	ctr := dig(tmpl, "spec", "containers").([]any)[0].(map[string]any)
	ports := map[string]string{}
	for _, p := range ctr["ports"].([]any) {
		pm := p.(map[string]any)
		ports[pm["name"].(string)] = fmt.Sprint(pm["containerPort"])
	}
	if ports["admin"] != adminPort || dig(ctr, "readinessProbe", "httpGet", "path") != "/ready" {
		t.Errorf("admin port %q (config %s), readiness %v", ports["admin"], adminPort, ctr["readinessProbe"])
	}
	for _, m := range ctr["volumeMounts"].([]any) {
		mm := m.(map[string]any)
		if mm["subPath"] != nil || mm["mountPath"] != "/etc/sluice" {
			t.Errorf("config mount %v: a subPath mount is never updated", mm)
		}
	}
	if !slices.Contains(ctr["args"].([]any), any("/etc/sluice/sluice.yaml")) {
		t.Errorf("args %v do not name the mounted config", ctr["args"])
	}
	if dig(tmpl, "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("the pod does not run as non-root")
	}
	var svcPorts []string
	for _, p := range dig(objs["Service"], "spec", "ports").([]any) {
		svcPorts = append(svcPorts, ports[p.(map[string]any)["targetPort"].(string)])
	}
	for _, l := range cfg.Listeners {
		_, port, _ := strings.Cut(l.Address, ":")
		if !slices.Contains(svcPorts, port) {
			t.Errorf("listener %s port %s is not in the Service (%v)", l.Name, port, svcPorts)
		}
	}
	pm, err := os.ReadFile("../deploy/kubernetes/podmonitor.yaml")
	if err != nil || !strings.Contains(string(pm), "path: /stats/prometheus") {
		t.Errorf("podmonitor: %v", err)
	}
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// TestSystemdUnit runs systemd-analyze verify on deploy/systemd's units
// (the binary's path replaced by one that exists here).
func TestSystemdUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is not installed (.ci/deps.sh installs systemd)")
	}
	for _, name := range []string{"sluice.service", "sluice-hot-restart.service"} {
		raw, err := os.ReadFile("../deploy/systemd/" + name)
		if err != nil {
			t.Fatal(err)
		}
		unit := filepath.Join(t.TempDir(), name)
		os.WriteFile(unit, bytes.ReplaceAll(raw, []byte("/usr/local/bin/sluice"), []byte("/usr/bin/true")), 0o644)
		out, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}

// TestGrafanaDashboardMetrics: every metric the dashboard queries is one a
// running sluice with every filter and the overload manager exports.
func TestGrafanaDashboardMetrics(t *testing.T) {
	raw, err := os.ReadFile("../deploy/grafana/sluice-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	s := sluicetest.Start(t, `
listeners:
  - name: tcp
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: tcp, cluster: c}}]
  - name: redis
    address: 127.0.0.1:0
    filters: [{redis_proxy: {stat_prefix: redis, settings: {op_timeout: 1s}, prefix_routes: {catch_all_route: {cluster: c}}}}]
  - name: pg
    address: 127.0.0.1:0
    filters: [{postgres_proxy: {stat_prefix: pg}}, {tcp_proxy: {stat_prefix: pg, cluster: c}}]
  - name: my
    address: 127.0.0.1:0
    filters: [{mysql_proxy: {stat_prefix: db}}, {tcp_proxy: {stat_prefix: db, cluster: c}}]
  - name: kafka
    address: 127.0.0.1:0
    filters: [{kafka_broker: {stat_prefix: kafka}}, {tcp_proxy: {stat_prefix: kafka, cluster: c}}]
clusters:
  - name: c
    endpoints: ["127.0.0.1:1"]
    health_checks: [{interval: 5s, timeout: 1s, unhealthy_threshold: 3, healthy_threshold: 2, tcp_health_check: {}}]
overload_manager:
  resource_monitors:
    - {name: envoy.resource_monitors.fixed_heap, typed_config: {max_heap_size_bytes: 1073741824}}
  actions:
    - {name: envoy.overload_actions.stop_accepting_connections, triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.95}}]}
`)
	_, exposition := s.AdminGet("/stats/prometheus")
	// Metric names and label names, as Prometheus would store them.
	exported := map[string]bool{}
	label := regexp.MustCompile(`([a-z_]+)="`)
	for _, line := range strings.Split(exposition, "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			name, labels, _ := strings.Cut(name, "{")
			exported[name] = true
			for _, l := range label.FindAllStringSubmatch(labels, -1) {
				exported[l[1]] = true
			}
		}
	}
	metric := regexp.MustCompile(`\benvoy_[a-z0-9_]+`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				n++
				if !exported[m] {
					t.Errorf("panel %q queries %s, which sluice does not export (as a metric or a label)", p.Title, m)
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d metric references in the dashboard", n)
	}
}
