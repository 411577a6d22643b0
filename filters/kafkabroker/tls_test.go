package kafkabroker_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestStatsUpstreamTLS: kafka_broker observes a broker that speaks only
// TLS and wants a client certificate; tcp_proxy's cluster has the tls
// block (server verified against the CA, client certificate presented),
// so the filter sees the plain Kafka protocol between the client and
// the cluster's TLS and counts every request and response.
func TestStatsUpstreamTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := testenv.NewCA("kafka CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := dir + "/ca.pem"
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	issue := func(o testenv.LeafOptions, name string) (string, string) {
		l, err := ca.Issue(o)
		if err != nil {
			t.Fatal(err)
		}
		c, k, err := l.Write(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	srvCert, srvKey := issue(testenv.LeafOptions{CommonName: "broker", DNS: []string{"broker.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, "broker")
	cliCert, cliKey := issue(testenv.LeafOptions{CommonName: "sluice"}, "sluice")
	pair, err := tls.LoadX509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{pair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	port := testenv.FreePort(t)
	s := sluicetest.Start(t, brokerConfig("tls", kc.ListenAddrs()[0],
		fmt.Sprintf(", id_based_broker_address_rewrite_spec: {rules: [{id: 0, host: 127.0.0.1, port: %d}]}", port), port)+
		fmt.Sprintf(`    tls: {sni: broker.test, common_tls_context: {tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}],
      validation_context: {trusted_ca: {filename: %s}, match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: broker.test}}]}}}
`, cliCert, cliKey, caFile))
	log := newClientLog()
	opts := append(log.opts(), kgo.SeedBrokers(s.Addr("kafka")))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	createTopic(t, cl, "secure", 2)
	produceConsume(t, cl, "secure", 20, opts...)
	cl.Close()
	assertStats(t, s, "tls", log)
	if v := s.Counter("cluster.kafka.ssl.handshake"); v == 0 {
		t.Error("cluster.kafka.ssl.handshake = 0")
	}
}
