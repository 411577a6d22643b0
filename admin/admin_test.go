package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func startWithTraffic(t *testing.T) *sluicetest.Sluice {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: pg, cluster: pg}}]
clusters:
  - name: pg
    endpoints: [{address: "%s", weight: 3}]
`, ln.Addr()))
	c, err := net.Dial("tcp", s.Addr("pg"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	c.Read(make([]byte, 5))
	c.Close()
	s.WaitGauge("cluster.pg.upstream_cx_active", 0, 5e9)
	s.WaitCounter("listener."+strings.ReplaceAll(s.Addr("pg"), ":", "_")+".downstream_cx_destroy", 1, 5e9)
	return s
}

func TestStatsText(t *testing.T) {
	s := startWithTraffic(t)
	code, body := s.AdminGet("/stats")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	la := strings.ReplaceAll(s.Addr("pg"), ":", "_")
	for _, want := range []string{
		"cluster.pg.upstream_cx_total: 1\n",
		"cluster.pg.upstream_cx_active: 0\n",
		"cluster.pg.upstream_cx_tx_bytes_total: 5\n",
		"cluster.pg.upstream_cx_rx_bytes_total: 5\n",
		"cluster.pg.membership_total: 1\n",
		"cluster.pg.membership_healthy: 1\n",
		"cluster.pg.max_host_weight: 3\n",
		"tcp.pg.downstream_cx_total: 1\n",
		"tcp.pg.downstream_cx_rx_bytes_total: 5\n",
		"tcp.pg.downstream_cx_tx_bytes_total: 5\n",
		"listener." + la + ".downstream_cx_total: 1\n",
		"listener." + la + ".downstream_cx_active: 0\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/stats lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^cluster\.pg\.upstream_cx_length_ms: P0\(nan,[0-9.]+\) P25`).MatchString(body) {
		t.Errorf("/stats lacks a histogram line in Envoy's format:\n%s", body)
	}
	// Every line is "name: value" (or a histogram summary).
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !regexp.MustCompile(`^[a-zA-Z0-9_.]+: `).MatchString(l) {
			t.Errorf("line not in Envoy's format: %q", l)
		}
	}
}

func TestStatsFilterAndUsedOnly(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/stats?filter=^tcp\\.pg\\.")
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(l, "tcp.pg.") {
			t.Fatalf("filter let through %q", l)
		}
	}
	_, used := s.AdminGet("/stats?usedonly")
	if strings.Contains(used, "upstream_cx_connect_fail") {
		t.Error("usedonly shows a counter that was never incremented")
	}
	if !strings.Contains(used, "cluster.pg.upstream_cx_total: 1") {
		t.Error("usedonly lacks a used counter")
	}
	if code, _ := s.AdminGet("/stats?filter=("); code != 400 {
		t.Errorf("bad regex: status %d, want 400", code)
	}
}

func TestStatsJSON(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/stats?format=json")
	var out struct {
		Stats []json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, raw := range out.Stats {
		var st struct {
			Name  string `json:"name"`
			Value int64  `json:"value"`
		}
		json.Unmarshal(raw, &st)
		if st.Name == "tcp.pg.downstream_cx_total" && st.Value == 1 {
			found = true
		}
	}
	if !found {
		t.Fatalf("json lacks tcp.pg.downstream_cx_total=1: %s", body)
	}
	if !strings.Contains(body, `"histograms"`) || !strings.Contains(body, `"computed_quantiles"`) {
		t.Error("json lacks Envoy's histograms block")
	}
}

func TestStatsPrometheus(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/stats/prometheus")
	la := strings.ReplaceAll(s.Addr("pg"), ":", "_")
	for _, want := range []string{
		"# TYPE envoy_cluster_upstream_cx_total counter",
		`envoy_cluster_upstream_cx_total{envoy_cluster_name="pg"} 1`,
		"# TYPE envoy_cluster_upstream_cx_active gauge",
		`envoy_tcp_downstream_cx_total{envoy_tcp_prefix="pg"} 1`,
		`envoy_listener_downstream_cx_total{envoy_listener_address="` + la + `"} 1`,
		"# TYPE envoy_cluster_upstream_cx_length_ms histogram",
		`envoy_cluster_upstream_cx_length_ms_bucket{envoy_cluster_name="pg",le="0.5"}`,
		`envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name="pg"} 1`,
		"envoy_server_live 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/stats/prometheus lacks %q", want)
		}
	}
}

func TestClusters(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/clusters")
	host := s.Server.Clusters.Get("pg").Hosts()[0].Address()
	for _, want := range []string{
		"pg::observability_name::pg\n",
		"pg::" + host + "::cx_total::1\n",
		"pg::" + host + "::cx_active::0\n",
		"pg::" + host + "::health_flags::healthy\n",
		"pg::" + host + "::weight::3\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/clusters lacks %q in:\n%s", want, body)
		}
	}
	_, js := s.AdminGet("/clusters?format=json")
	if !strings.Contains(js, `"cluster_statuses"`) || !strings.Contains(js, `"health_status": "healthy"`) {
		t.Errorf("/clusters?format=json: %s", js)
	}
}

func TestReadyHealthcheckListenersConfigDumpServerInfo(t *testing.T) {
	s := startWithTraffic(t)
	if code, body := s.AdminGet("/ready"); code != 200 || body != "LIVE\n" {
		t.Fatalf("/ready: %d %q", code, body)
	}
	if code, _ := s.AdminPost("/healthcheck/fail"); code != 200 {
		t.Fatalf("/healthcheck/fail: %d", code)
	}
	if code, body := s.AdminGet("/ready"); code != 503 || body != "DRAINING\n" {
		t.Fatalf("/ready after fail: %d %q", code, body)
	}
	s.AdminPost("/healthcheck/ok")
	if code, _ := s.AdminGet("/ready"); code != 200 {
		t.Fatalf("/ready after ok: %d", code)
	}
	if code, _ := s.AdminGet("/healthcheck/fail"); code != 405 {
		t.Errorf("GET /healthcheck/fail: %d, want 405 (POST only)", code)
	}
	if _, body := s.AdminGet("/listeners"); body != "pg::"+s.Addr("pg")+"\n" {
		t.Errorf("/listeners: %q", body)
	}
	_, dump := s.AdminGet("/config_dump")
	var cd struct {
		Configs []struct {
			Listeners []struct {
				Name    string           `json:"name"`
				Filters []map[string]any `json:"filters"`
			} `json:"listeners"`
		} `json:"configs"`
	}
	if err := json.Unmarshal([]byte(dump), &cd); err != nil {
		t.Fatal(err)
	}
	if len(cd.Configs) != 1 || cd.Configs[0].Listeners[0].Name != "pg" || cd.Configs[0].Listeners[0].Filters[0]["tcp_proxy"] == nil {
		t.Errorf("/config_dump: %s", dump)
	}
	_, info := s.AdminGet("/server_info")
	var si map[string]any
	if err := json.Unmarshal([]byte(info), &si); err != nil || si["state"] != "LIVE" || si["version"] == "" {
		t.Errorf("/server_info: %s", info)
	}
}
