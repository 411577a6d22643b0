package kafkamesh_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// meshPKI is a CA, a broker certificate for 127.0.0.1 and a client
// certificate, written to files for producer_config.
type meshPKI struct {
	ca                                       *testenv.CA
	caFile, srvCert, srvKey, cliCert, cliKey string
}

func newMeshPKI(t *testing.T, name string) *meshPKI {
	t.Helper()
	dir := t.TempDir()
	ca, err := testenv.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	p := &meshPKI{ca: ca, caFile: dir + "/ca.pem"}
	if err := os.WriteFile(p.caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	issue := func(o testenv.LeafOptions, n string) (string, string) {
		l, err := ca.Issue(o)
		if err != nil {
			t.Fatal(err)
		}
		c, k, err := l.Write(dir, n)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	p.srvCert, p.srvKey = issue(testenv.LeafOptions{CommonName: "broker", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, "broker")
	p.cliCert, p.cliKey = issue(testenv.LeafOptions{CommonName: "mesh"}, "mesh")
	return p
}

// tlsCluster is a kfake cluster serving only TLS and requiring a client
// certificate of p's CA.
func tlsCluster(t *testing.T, p *meshPKI) *kfake.Cluster {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.srvCert, p.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.ca.PEM)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestMeshUpstreamTLS: a cluster behind the mesh that speaks only TLS and
// wants a client certificate is reached with producer_config's librdkafka
// TLS properties (as in Envoy): records produced through the mesh land in
// it. A cluster configured with another CA fails the produce.
func TestMeshUpstreamTLS(t *testing.T) {
	p := newMeshPKI(t, "kafka CA")
	wrong := newMeshPKI(t, "not the broker's CA")
	c := tlsCluster(t, p)
	port := testenv.FreePort(t)
	props := func(ca string) string {
		return fmt.Sprintf(`{security.protocol: SSL, ssl.ca.location: %s, ssl.certificate.location: %s, ssl.key.location: %s}`, ca, p.cliCert, p.cliKey)
	}
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: mesh
    address: 127.0.0.1:%[1]d
    filters:
      - kafka_mesh:
          advertised_host: 127.0.0.1
          advertised_port: %[1]d
          upstream_clusters:
            - {cluster_name: good, bootstrap_servers: "%[2]s", producer_config: %[3]s}
            - {cluster_name: wrong, bootstrap_servers: "%[2]s", producer_config: %[4]s}
          forwarding_rules:
            - {target_cluster: good, topic_prefix: good-}
            - {target_cluster: wrong, topic_prefix: wrong-}
`, port, strings.Join(c.ListenAddrs(), ","), props(p.caFile), props(wrong.caFile)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr("mesh")), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 10
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "good-tls", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatalf("produce through the mesh: %v", err)
		}
	}
	// Read the records from the broker directly, over TLS.
	pair, err := tls.LoadX509KeyPair(p.cliCert, p.cliKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.ca.PEM)
	cfg := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}
	direct, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DialTLSConfig(cfg), kgo.ConsumeTopics("good-tls"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	got := 0
	for got < n {
		fs := direct.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from the broker: %v", got, n, ctx.Err())
		}
		got += fs.NumRecords()
	}

	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if err := cl.ProduceSync(short, &kgo.Record{Topic: "wrong-tls", Value: []byte("x")}).FirstErr(); err == nil {
		t.Fatal("produce through a cluster whose CA does not sign the broker succeeded")
	}
}

// TestMeshTLSConfigRefused: TLS properties that cannot work are refused at
// load with their path.
func TestMeshTLSConfigRefused(t *testing.T) {
	for _, c := range []struct{ props, want string }{
		{`{security.protocol: SASL_SSL}`, `producer_config.security.protocol: "SASL_SSL" is not supported`},
		{`{security.protocol: SSL, ssl.ca.location: /nonexistent/ca.pem}`, `producer_config.ssl.ca.location: open /nonexistent/ca.pem`},
		{`{ssl.ca.location: /etc/hostname}`, `producer_config.ssl.ca.location: needs security.protocol: ssl`},
		{`{security.protocol: ssl, ssl.certificate.location: /etc/hostname}`, `producer_config.ssl.certificate.location: ssl.certificate.location and ssl.key.location go together`},
	} {
		src := `
listeners:
  - name: mesh
    address: 127.0.0.1:0
    filters:
      - kafka_mesh:
          advertised_host: 127.0.0.1
          advertised_port: 9092
          upstream_clusters: [{cluster_name: a, bootstrap_servers: "127.0.0.1:9", producer_config: ` + c.props + `}]
          forwarding_rules: [{target_cluster: a, topic_prefix: a-}]
`
		_, err := config.Parse("mesh.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "upstream_clusters[0]."+c.want) {
			t.Errorf("%s: err = %v, want %q", c.props, err, c.want)
		}
	}
}
