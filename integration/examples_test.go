package integration

import (
	"context"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// exampleSmokes runs each file of examples/ through sluice against real
// peers. Every file there must have an entry: TestExamplesLoad fails on a
// file without one, so a new example comes with its test.
var exampleSmokes = map[string]func(t *testing.T, file string){
	"tcp.yaml":           smokeTCP,
	"clusters.yaml":      smokeClusters,
	"compose.yaml":       smokeCompose,
	"postgres.yaml":      smokePostgres,
	"mysql_rbac.yaml":    smokeMySQLRBAC,
	"redis_shards.yaml":  smokeRedisShards,
	"redis_cluster.yaml": smokeRedisCluster,
	"kafka_broker.yaml":  smokeKafkaBroker,
	"kafka_mesh.yaml":    smokeKafkaMesh,
	"zookeeper.yaml":     smokeZooKeeper,
	"http.yaml":          smokeHTTP,
	"thrift.yaml":        smokeThrift,
	"dynamodb.yaml":      smokeDynamoDB,
}

// exampleFiles lists examples/*.yaml.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return files
}

// TestExamplesLoad loads every example with the real config loader (decode,
// defaults, validation, cross-references), as `sluice validate` does.
func TestExamplesLoad(t *testing.T) {
	for _, f := range exampleFiles(t) {
		name := filepath.Base(f)
		if _, err := config.Load(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if exampleSmokes[name] == nil {
			t.Errorf("%s has no smoke test in exampleSmokes", name)
		}
	}
}

// TestExamples runs every example against real servers.
func TestExamples(t *testing.T) {
	for _, f := range exampleFiles(t) {
		name := filepath.Base(f)
		if smoke := exampleSmokes[name]; smoke != nil {
			t.Run(name, func(t *testing.T) { smoke(t, f) })
		}
	}
}

// listenAddr matches the listener and admin addresses of an example.
var listenAddr = regexp.MustCompile(`address: ((?:0\.0\.0\.0|127\.0\.0\.1):\d+)`)

// startExample starts sluice with an example whose upstream addresses are
// replaced by up (example's address → test server's address); every other
// listener or admin address becomes 127.0.0.1:0 (find it with Addr).
func startExample(t *testing.T, file string, up map[string]string) *sluicetest.Sluice {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for from, to := range up {
		if !strings.Contains(string(b), from) {
			t.Fatalf("%s does not mention %s", file, from)
		}
		pairs = append(pairs, from, to)
	}
	for _, m := range listenAddr.FindAllStringSubmatch(string(b), -1) {
		if _, ok := up[m[1]]; !ok && !slices.Contains(pairs, m[1]) {
			pairs = append(pairs, m[1], "127.0.0.1:0")
		}
	}
	return sluicetest.Start(t, strings.NewReplacer(pairs...).Replace(string(b)))
}

// redisPing sends PING through addr until it answers (the first round of
// health checks may still be running).
func redisPing(t *testing.T, addr string) {
	t.Helper()
	poll.Eventually(t, 10*time.Second, func() bool { return ping(addr) == nil }, "PING through %s", addr)
}

func smokeTCP(t *testing.T, file string) {
	up := testenv.Redis(t)
	s := startExample(t, file, map[string]string{"127.0.0.1:6379": up.Addr()})
	redisPing(t, s.Addr("redis"))
	s.WaitCounter("tcp.redis.downstream_cx_total", 1, settle)
}

func smokeClusters(t *testing.T, file string) {
	up := map[string]string{}
	for _, p := range []string{"6379", "6380", "6381"} {
		up["127.0.0.1:"+p] = testenv.Redis(t).Addr()
	}
	s := startExample(t, file, up)
	redisPing(t, s.Addr("redis"))
	s.WaitGauge("cluster.redis.membership_healthy", 3, 10*time.Second)
}

// smokeCompose runs docker-compose's config (also the image's default) with
// its strict_dns names pointing at local servers.
func smokeCompose(t *testing.T, file string) {
	pg, maria, rd := testenv.Postgres(t), testenv.MariaDB(t), testenv.Redis(t)
	s := startExample(t, file, map[string]string{
		"postgres:5432": pg.Addr(), "mysql:3306": maria.Addr(), "redis:6379": rd.Addr(),
	})
	redisPing(t, s.Addr("redis"))
	c := pgConnect(t, s.Addr("postgres"), testenv.PostgresUser, "postgres", "disable")
	defer c.Close(context.Background())
	var one int
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("postgres through sluice: %d, %v", one, err)
	}
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "", nil)
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("mysql through sluice: %d, %v", one, err)
	}
}

func smokePostgres(t *testing.T, file string) {
	pg := testenv.Postgres(t)
	s := startExample(t, file, map[string]string{"127.0.0.1:5432": pg.Addr()})
	ctx := context.Background()
	c := pgConnect(t, s.Addr("postgres"), testenv.PostgresUser, "postgres", "disable")
	defer c.Close(ctx)
	simple := pgx.QueryExecModeSimpleProtocol
	for _, q := range []string{"CREATE TEMP TABLE ex (id int, v text)", "INSERT INTO ex VALUES (1, 'a')"} {
		if _, err := c.Exec(ctx, q, simple); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var v string
	if err := c.QueryRow(ctx, "SELECT v FROM ex WHERE id = $1", 1).Scan(&v); err != nil || v != "a" {
		t.Fatalf("select through sluice: %q, %v", v, err)
	}
	// The SQL parser ran on every statement (pgx's own startup queries too).
	s.WaitCounter("postgres.pg.statements_insert", 1, settle)
	s.WaitCounter("postgres.pg.statements_parsed", 3, settle)
	if n := s.Counter("postgres.pg.statements_parse_error"); n != 0 {
		t.Errorf("statements_parse_error = %d", n)
	}
}

func smokeMySQLRBAC(t *testing.T, file string) {
	srv := testenv.MariaDB(t)
	if out, err := srv.CLI("-e", "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY); "+
		"INSERT INTO shop.orders VALUES (1), (2)"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := startExample(t, file, map[string]string{"127.0.0.1:3306": srv.Addr()})
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "shop", nil)
	var me *mysql.MySQLError
	if _, err := db.Exec("DELETE FROM orders WHERE id = 1"); !errors.As(err, &me) || me.Number != 1142 {
		t.Fatalf("DELETE: %v; want ERR 1142 from the rbac policy", err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count after the denied DELETE: %d, %v; want 2", n, err)
	}
	s.WaitCounter("mysql.db.statements_denied", 1, settle)
	s.WaitCounter("guard.rbac.denied", 1, settle)
}

func smokeRedisShards(t *testing.T, file string) {
	a, b := testenv.Redis(t), testenv.Redis(t)
	s := startExample(t, file, map[string]string{"127.0.0.1:6379": a.Addr(), "127.0.0.1:6380": b.Addr()})
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	var kv []any
	for i := 0; i < 40; i++ {
		kv = append(kv, fmt.Sprintf("k%d", i), i)
	}
	if err := c.MSet(ctx, kv...).Err(); err != nil {
		t.Fatal(err)
	}
	// The keys are spread over both shards and all read back through sluice.
	for _, srv := range []*testenv.RedisServer{a, b} {
		if n, err := newClient(t, srv.Addr()).DBSize(ctx).Result(); err != nil || n == 0 || n == 40 {
			t.Errorf("%s holds %d of 40 keys (%v); want a share", srv.Addr(), n, err)
		}
	}
	vals, err := c.MGet(ctx, "k0", "k17", "k39").Result()
	if err != nil || fmt.Sprint(vals) != "[0 17 39]" {
		t.Fatalf("MGET: %v, %v", vals, err)
	}
}

func smokeRedisCluster(t *testing.T, file string) {
	rc := testenv.RedisCluster(t, 3, 0)
	addrs := rc.Addrs()
	s := startExample(t, file, map[string]string{
		"127.0.0.1:7000": addrs[0], "127.0.0.1:7001": addrs[1], "127.0.0.1:7002": addrs[2],
	})
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	if err := c.MSet(ctx, "a", 1, "b", 2, "c", 3).Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		own := rc.Owner(rc.KeySlot(k))
		if n, err := newClient(t, own.Addr()).Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("%s not on its slot owner %s: %d, %v", k, own.Addr(), n, err)
		}
	}
	if vals, err := c.MGet(ctx, "a", "b", "c").Result(); err != nil || fmt.Sprint(vals) != "[1 2 3]" {
		t.Fatalf("MGET: %v, %v", vals, err)
	}
}

// kafkaRoundTrip produces n records to topic through addr and consumes
// them back, failing the test on any error.
func kafkaRoundTrip(t *testing.T, addr, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", topic, err)
		}
	}
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume %s: %v (have %d of %d)", topic, err, got, n)
		}
		got += fs.NumRecords()
	}
}

// kfakeCluster starts an in-process Kafka cluster of n brokers that
// creates topics on a client's request.
func kfakeCluster(t *testing.T, n int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(n), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func smokeKafkaBroker(t *testing.T, file string) {
	k := kfakeCluster(t, 1)
	s := startExample(t, file, map[string]string{"127.0.0.1:9092": k.ListenAddrs()[0]})
	kafkaRoundTrip(t, s.Addr("kafka"), "orders", 10)
	s.WaitCounter("kafka.kafka.request.produce_request", 1, settle)
	s.WaitCounter("kafka.kafka.response.metadata_response", 1, settle)
}

func smokeKafkaMesh(t *testing.T, file string) {
	pay, logs := kfakeCluster(t, 1), kfakeCluster(t, 1)
	port := freePort(t)
	s := startExample(t, file, map[string]string{
		"127.0.0.1:19092":        "127.0.0.1:" + port,
		"advertised_port: 19092": "advertised_port: " + port,
		"127.0.0.1:9092":         pay.ListenAddrs()[0],
		"127.0.0.1:9093":         logs.ListenAddrs()[0],
	})
	kafkaRoundTrip(t, s.Addr("mesh"), "pay-orders", 10)
	kafkaRoundTrip(t, s.Addr("mesh"), "log-lines", 10)
	// Each topic exists on its own cluster only.
	for _, c := range []struct {
		k         *kfake.Cluster
		has, hasn string
	}{{pay, "pay-orders", "log-lines"}, {logs, "log-lines", "pay-orders"}} {
		topics := kafkaTopics(t, c.k.ListenAddrs()[0])
		if !topics[c.has] || topics[c.hasn] {
			t.Errorf("cluster %s has topics %v; want %s and not %s", c.k.ListenAddrs()[0], topics, c.has, c.hasn)
		}
	}
}

// kafkaTopics lists a cluster's topics, directly.
func kafkaTopics(t *testing.T, addr string) map[string]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest() // no topics: all of them
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, tp := range resp.Topics {
		if tp.Topic != nil {
			out[*tp.Topic] = true
		}
	}
	return out
}

// settle bounds the polls for counters that trail a client's answer: long,
// because a loaded machine runs the WebAssembly SQL parser's first compile
// slowly (the postgres smoke's statements_parsed missed a 5 s bound with
// helpers on both cores); a poll ends as soon as its condition holds.
const settle = 60 * time.Second
