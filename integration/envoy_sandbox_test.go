package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// The Envoy sandbox configs of testdata/envoy, loaded as they are with only
// their addresses changed, exercised with the sandbox's client steps and
// checked with the stat names the sandbox's docs list.

// sandbox reads testdata/envoy/<name>.yaml and changes its addresses only:
// listeners and admin to 127.0.0.1 port 0, each cluster's endpoints to
// upstreams[cluster].
func sandbox(t *testing.T, name string, upstreams map[string]string) string {
	t.Helper()
	data, err := os.ReadFile("../testdata/envoy/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	setAddr := func(addr map[string]any, hostPort string) {
		host, port, _ := net.SplitHostPort(hostPort)
		p, _ := strconv.Atoi(port)
		sa := addr["socket_address"].(map[string]any)
		sa["address"], sa["port_value"] = host, p
	}
	if adm, ok := root["admin"].(map[string]any); ok {
		setAddr(adm["address"].(map[string]any), "127.0.0.1:0")
	}
	sr := root["static_resources"].(map[string]any)
	for _, l := range sr["listeners"].([]any) {
		setAddr(l.(map[string]any)["address"].(map[string]any), "127.0.0.1:0")
	}
	for _, c := range sr["clusters"].([]any) {
		c := c.(map[string]any)
		up, ok := upstreams[c["name"].(string)]
		if !ok {
			t.Fatalf("no upstream for cluster %v", c["name"])
		}
		for _, lle := range c["load_assignment"].(map[string]any)["endpoints"].([]any) {
			for _, lbe := range lle.(map[string]any)["lb_endpoints"].([]any) {
				setAddr(lbe.(map[string]any)["endpoint"].(map[string]any)["address"].(map[string]any), up)
			}
		}
	}
	out, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestEnvoySandboxTCPProxy: the TLS sandbox's passthrough proxy; a client
// speaks TLS through tcp_proxy to the HTTPS service (the sandbox's curl).
func TestEnvoySandboxTCPProxy(t *testing.T) {
	svc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello from behind Envoy (https passthrough)!\n")
	}))
	defer svc.Close()
	s := sluicetest.StartEnvoy(t, sandbox(t, "tcp_proxy", map[string]string{"service-https": svc.Listener.Addr().String()}))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	resp, err := client.Get("https://" + s.Addr("listener_0") + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "https passthrough") {
		t.Fatalf("body %q", body)
	}
	s.WaitGauge("cluster.service-https.upstream_cx_active", 0, 5*time.Second)
	wantStats(t, s, map[string]uint64{
		"tcp.https_passthrough.downstream_cx_total": 1,
		"cluster.service-https.upstream_cx_total":   1,
	})
	if s.Counter("tcp.https_passthrough.downstream_cx_rx_bytes_total") == 0 || s.Counter("tcp.https_passthrough.downstream_cx_tx_bytes_total") == 0 {
		t.Error("tcp.https_passthrough byte counters did not move")
	}
}

// TestEnvoySandboxRedis: the Redis sandbox's redis-cli steps.
func TestEnvoySandboxRedis(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.StartEnvoy(t, sandbox(t, "redis", map[string]string{"redis_cluster": srv.Addr()}))
	host, port, _ := net.SplitHostPort(s.Addr("redis_listener"))
	for _, step := range []struct{ args, want string }{
		{"set foo foo", "OK"}, {"set bar bar", "OK"}, {"get foo", "foo"}, {"get bar", "bar"},
	} {
		out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, strings.Fields(step.args)...)...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != step.want {
			t.Fatalf("redis-cli %s: %v %q, want %q", step.args, err, out, step.want)
		}
	}
	s.WaitGauge("redis.egress_redis.downstream_cx_active", 0, 5*time.Second)
	wantStats(t, s, map[string]uint64{
		"redis.egress_redis.downstream_cx_total": 4,
		"redis.egress_redis.downstream_rq_total": 4,
	})
	// The sandbox's step 3: per-command totals, counted by Envoy whatever
	// enable_command_stats says.
	wantStats(t, s, map[string]uint64{
		"redis.egress_redis.command.get.total":   2,
		"redis.egress_redis.command.set.total":   2,
		"redis.egress_redis.command.get.success": 2,
		"redis.egress_redis.command.set.success": 2,
	})
}

// TestEnvoySandboxMySQL: the MySQL sandbox's session with the mariadb CLI.
func TestEnvoySandboxMySQL(t *testing.T) {
	if _, err := exec.LookPath("mariadb"); err != nil {
		t.Fatal("the mariadb client is not installed (.ci/deps.sh installs mariadb-client)")
	}
	srv := testenv.MariaDB(t)
	s := sluicetest.StartEnvoy(t, sandbox(t, "mysql", map[string]string{"mysql_cluster": srv.Addr()}))
	out, err := mariadbCLI(t, s.Addr("mysql_listener"), "-e",
		"CREATE DATABASE test; USE test; CREATE TABLE test ( text VARCHAR(255) ); "+
			"INSERT INTO test VALUES ('hello, world!'); SELECT COUNT(*) FROM test;")
	if err != nil {
		t.Fatalf("mariadb: %v\n%s", err, out)
	}
	if f := strings.Fields(out); len(f) == 0 || f[len(f)-1] != "1" {
		t.Fatalf("unexpected output:\n%s", out)
	}
	s.WaitGauge("cluster.mysql_cluster.upstream_cx_active", 0, 5*time.Second)
	// The sandbox's step 5 lists these names (its values come from its own
	// session; these are this session's: the CLI's version query, two
	// CREATEs, INSERT and SELECT).
	wantStats(t, s, map[string]uint64{
		"mysql.egress_mysql.sessions":            1,
		"mysql.egress_mysql.login_attempts":      1,
		"mysql.egress_mysql.login_failures":      0,
		"mysql.egress_mysql.decoder_errors":      0,
		"mysql.egress_mysql.protocol_errors":     0,
		"mysql.egress_mysql.upgraded_to_ssl":     0,
		"mysql.egress_mysql.auth_switch_request": 0,
		"mysql.egress_mysql.queries_parsed":      5,
		"mysql.egress_mysql.queries_parse_error": 0,
		"tcp.mysql_tcp.downstream_cx_total":      1,
	})
}

// TestEnvoySandboxPostgres: the PostgreSQL sandbox's psql session, fed on
// stdin as typed there (\c included), and its step 5 and 6 stats.
func TestEnvoySandboxPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	s := sluicetest.StartEnvoy(t, sandbox(t, "postgres", map[string]string{"postgres_cluster": pg.Addr()}))
	host, port, _ := net.SplitHostPort(s.Addr("postgres_listener"))
	cmd := exec.Command("psql", "-X", "-U", "postgres", "-h", host, "-p", port)
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
	cmd.Stdin = strings.NewReader(`CREATE DATABASE testdb;
\c testdb
CREATE TABLE tbl ( f SERIAL PRIMARY KEY );
INSERT INTO tbl VALUES (DEFAULT);
SELECT * FROM tbl;
UPDATE tbl SET f = 2 WHERE f = 1;
INSERT INTO tbl VALUES (DEFAULT);
DELETE FROM tbl;
INSERT INTO tbl VALUES (DEFAULT);
\q
`)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "duplicate key value violates unique constraint") || !strings.Contains(string(out), "DELETE 1") {
		t.Fatalf("psql output is not the sandbox's:\n%s", out)
	}
	s.WaitGauge("cluster.postgres_cluster.upstream_cx_active", 0, 5*time.Second)
	// Step 5's values, but sessions: psql's \c opens a second connection
	// here, counted as Envoy counts it.
	wantStats(t, s, map[string]uint64{
		"postgres.egress_postgres.errors":                1,
		"postgres.egress_postgres.errors_error":          1,
		"postgres.egress_postgres.errors_fatal":          0,
		"postgres.egress_postgres.sessions":              2,
		"postgres.egress_postgres.sessions_encrypted":    0,
		"postgres.egress_postgres.sessions_unencrypted":  2,
		"postgres.egress_postgres.statements":            7,
		"postgres.egress_postgres.statements_delete":     1,
		"postgres.egress_postgres.statements_insert":     2,
		"postgres.egress_postgres.statements_other":      2,
		"postgres.egress_postgres.statements_select":     1,
		"postgres.egress_postgres.statements_update":     1,
		"postgres.egress_postgres.transactions":          7,
		"postgres.egress_postgres.transactions_commit":   7,
		"postgres.egress_postgres.transactions_rollback": 0,
		"tcp.postgres_tcp.downstream_cx_total":           2,
		"tcp.postgres_tcp.idle_timeout":                  0,
	})
	if s.Counter("tcp.postgres_tcp.downstream_cx_rx_bytes_total") == 0 || s.Counter("tcp.postgres_tcp.downstream_cx_tx_bytes_total") == 0 {
		t.Error("tcp.postgres_tcp byte counters did not move")
	}
}

// wantStats checks counters by name and value; unlike wantCounters a
// counter that does not exist fails, so a 0 proves the name.
func wantStats(t *testing.T, s *sluicetest.Sluice, want map[string]uint64) {
	t.Helper()
	for name, v := range want {
		// Statements parsed off an event loop are counted a moment later.
		poll.Until(5*time.Second, func() bool { got, _ := s.Store.CounterValue(name); return got == v })
		got, ok := s.Store.CounterValue(name)
		switch {
		case !ok:
			t.Errorf("%s: no such counter", name)
		case got != v:
			t.Errorf("%s = %d, want %d", name, got, v)
		}
	}
}

// TestEnvoyTLSTermination: a filter chain's transport_socket
// (DownstreamTlsContext with certificate files and ALPN) terminates TLS and
// tcp_proxy carries the plaintext to an echo server.
func TestEnvoyTLSTermination(t *testing.T) {
	certFile, keyFile := writeCert(t, "db.example.com")
	echo := testenv.Echo(t)
	host, port, _ := net.SplitHostPort(echo.Addr())
	s := sluicetest.StartEnvoy(t, `
static_resources:
  listeners:
  - name: tls
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filter_chain_match: {server_names: [db.example.com]}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            alpn_protocols: [echo]
            tls_certificates:
            - certificate_chain: {filename: `+certFile+`}
              private_key: {filename: `+keyFile+`}
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tls, cluster: echo}
  clusters:
  - name: echo
    load_assignment:
      cluster_name: echo
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: `+host+`, port_value: `+port+`}}}}]}]
`)
	c, err := tls.Dial("tcp", s.Addr("tls"), &tls.Config{ServerName: "db.example.com", InsecureSkipVerify: true, NextProtos: []string{"echo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "echo" {
		t.Errorf("ALPN %q, want echo", p)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo through TLS: %q %v", buf, err)
	}
	if echo.Accepted() != 1 {
		t.Errorf("echo server accepted %d connections, want 1", echo.Accepted())
	}
}

// TestEnvoyRedisClusterType: Envoy's redis cluster (cluster_type
// envoy.clusters.redis with lb_policy CLUSTER_PROVIDED, as Envoy's docs
// configure it) reads the slot map: each key lands on its slot's owner.
func TestEnvoyRedisClusterType(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 0)
	var eps []string
	for _, a := range rc.Addrs() {
		h, p, _ := net.SplitHostPort(a)
		eps = append(eps, "{endpoint: {address: {socket_address: {address: "+h+", port_value: "+p+"}}}}")
	}
	s := sluicetest.StartEnvoy(t, `
static_resources:
  listeners:
  - name: redis_listener
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: egress_redis
          settings: {op_timeout: 5s, enable_redirection: true}
          prefix_routes: {catch_all_route: {cluster: redis_cluster}}
  clusters:
  - name: redis_cluster
    connect_timeout: 1s
    lb_policy: CLUSTER_PROVIDED
    cluster_type:
      name: envoy.clusters.redis
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig
        cluster_refresh_rate: 60s
    load_assignment:
      cluster_name: redis_cluster
      endpoints: [{lb_endpoints: [`+strings.Join(eps, ", ")+`]}]
`)
	if got := s.Server.Config().Cluster("redis_cluster"); got.Type != "redis_cluster" || got.ClusterRefreshRate.D() != time.Minute {
		t.Fatalf("cluster = %s, refresh %v", got, got.ClusterRefreshRate.D())
	}
	ctx := context.Background()
	c := newClient(t, s.Addr("redis_listener"))
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("ek:%d", i)
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		own := rc.Owner(rc.KeySlot(k))
		if got, _ := newClient(t, own.Addr()).Get(ctx, k).Result(); got != k {
			t.Fatalf("%s not on its slot owner %s", k, own.Addr())
		}
	}
}
