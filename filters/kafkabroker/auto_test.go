package kafkabroker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// brokerListeners returns the per-broker listeners /listeners shows, by
// broker address.
func brokerListeners(t *testing.T, s *sluicetest.Sluice, prefix string) map[string]string {
	t.Helper()
	_, body := s.AdminGet("/listeners")
	out := map[string]string{}
	name := "kafka/kafka_broker/" + prefix + "/"
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		n, addr, ok := strings.Cut(line, "::")
		if ok && strings.HasPrefix(n, name) {
			out[strings.TrimPrefix(n, name)] = addr
		}
	}
	return out
}

// accessLines reads the access log's JSON lines.
func accessLines(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// TestAutoListenersOwnedByServer checks that the per-broker listeners of the
// automatic rewrite are the server's: they show in /listeners, count in
// listener.<address>.* stats and write the owning listener's access log;
// a broker that leaves the metadata loses its listener, and a reload that
// drops the automatic mode closes the rest.
func TestAutoListenersOwnedByServer(t *testing.T) {
	kc := newCluster(t, 3)
	brokers := kc.ListenAddrs()
	alog := filepath.Join(t.TempDir(), "access.log")
	port := testenv.FreePort(t)
	conf := func(filter string) string {
		return fmt.Sprintf(`
listeners:
  - name: kafka
    address: 127.0.0.1:%d
    access_log: {path: %s}
    filters:
      - kafka_broker: {stat_prefix: owned%s}
      - tcp_proxy: {stat_prefix: owned, cluster: kafka}
clusters:
  - {name: kafka, type: static, connect_timeout: 1s, endpoints: ["%s"]}
`, port, alog, filter, brokers[0])
	}
	s := sluicetest.Start(t, conf(", broker_address_rewrite: {auto: {bind_host: 127.0.0.1}}"))
	runThreeBrokers(t, s.Addr("kafka"), "owned")

	ls := brokerListeners(t, s, "owned")
	if len(ls) != 3 {
		t.Fatalf("/listeners shows per-broker listeners %v, want one for each of %v", ls, brokers)
	}
	for _, b := range brokers {
		addr := ls[b]
		if addr == "" {
			t.Fatalf("no listener for broker %s in %v", b, ls)
		}
		stat := "listener." + strings.ReplaceAll(addr, ":", "_") + ".downstream_cx_total"
		if s.Counter(stat) == 0 {
			t.Errorf("%s = 0: the broker listener's connections are not counted", stat)
		}
	}
	// Every per-broker connection the client made was logged once it closed.
	poll.Eventually(t, 10*time.Second, func() bool {
		seen := map[string]bool{}
		for _, e := range accessLines(t, alog) {
			name, _ := e["listener"].(string)
			b := strings.TrimPrefix(name, "kafka/kafka_broker/owned/")
			if b != name && e["upstream_host"] == b && ls[b] == e["downstream_local_address"] && e["fields"] != nil {
				seen[b] = true
			}
		}
		return len(seen) == 3
	}, "access log %s lacks per-broker connections: %v", alog, func() any { return accessLines(t, alog) })

	// Broker 2 leaves: the next metadata through sluice closes its listener.
	gone := ls[brokers[2]]
	if err := kc.RemoveNode(2); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr("kafka")))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	poll.Eventually(t, 10*time.Second, func() bool {
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl); err != nil {
			return false
		}
		now := brokerListeners(t, s, "owned")
		return len(now) == 2 && now[brokers[2]] == ""
	}, "listeners after broker 2 left: %v", func() any { return brokerListeners(t, s, "owned") })
	if c, err := net.DialTimeout("tcp", gone, time.Second); err == nil {
		c.Close()
		t.Errorf("the listener of the departed broker still accepts at %s", gone)
	}
	cl.Close()

	// A reload without the automatic mode closes the other listeners once
	// the old filter's last connection has ended.
	if err := s.Reload(conf("")); err != nil {
		t.Fatal(err)
	}
	poll.Eventually(t, 10*time.Second, func() bool { return len(brokerListeners(t, s, "owned")) == 0 },
		"listeners after the mode was dropped: %v", func() any { return brokerListeners(t, s, "owned") })
}
