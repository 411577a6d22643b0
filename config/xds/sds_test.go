package xds_test

import (
	"crypto/tls"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// certSecret is an SDS tls_certificate secret for a new leaf of ca.
func certSecret(t *testing.T, ca *testenv.CA, name, cn string) *tlsv3.Secret {
	l, err := ca.Issue(testenv.LeafOptions{CommonName: cn, DNS: []string{"sluice.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: l.CertPEM}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: l.KeyPEM}}}}}
}

// tlsListener is a tcp_proxy listener terminating TLS with the ADS secret.
func tlsListener(name, addr, cluster, secret string) *listenerv3.Listener {
	l := tcpListener(name, addr, cluster)
	ctx, err := anypb.New(&tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secret, SdsConfig: adsSource()}}}})
	if err != nil {
		panic(err)
	}
	l.FilterChains[0].TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: ctx}}
	return l
}

// handshakeCN completes a TLS handshake with addr and returns the common
// name of the certificate it was given.
func handshakeCN(addr string) (string, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "sluice.test", InsecureSkipVerify: true})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

// TestSDS: a listener's certificate comes from the control plane by SDS
// over ADS; the listener waits for it, and a rotation pushed by the
// control plane is served to new handshakes while TLS clients keep
// connecting, none failing.
func TestSDS(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) { testSDS(t, delta) })
	}
}

func testSDS(t *testing.T, delta bool) {
	ca, err := testenv.NewCA("sds-ca")
	if err != nil {
		t.Fatal(err)
	}
	cp := startControlPlane(t)
	backend := testenv.Redis(t)
	addr := freeAddr(t)
	base := map[resource.Type][]types.Resource{
		resource.ClusterType:  {staticCluster("redis", "127.0.0.1:"+itoa(backend.Port()))},
		resource.ListenerType: {tlsListener("tls", addr, "redis", "server-cert")}}
	cp.set("1", base)
	s := startSluice(t, bootstrap(cp, true, delta))
	s.waitCounter("listener_manager.lds.update_success", 1)
	if _, err := handshakeCN(addr); err == nil {
		t.Fatal("the listener served before its certificate arrived")
	}

	with := func(v string, sec *tlsv3.Secret) {
		res := map[resource.Type][]types.Resource{resource.SecretType: {sec}}
		for k, r := range base {
			res[k] = r
		}
		cp.set(v, res)
	}
	with("2", certSecret(t, ca, "server-cert", "one"))
	poll.Eventually(t, 20*time.Second, func() bool { cn, _ := handshakeCN(addr); return cn == "one" }, "certificate one served")

	var failed, done atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := handshakeCN(addr); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				done.Add(1)
			}
		}()
	}
	with("3", certSecret(t, ca, "server-cert", "two"))
	poll.Eventually(t, 20*time.Second, func() bool { cn, _ := handshakeCN(addr); return cn == "two" }, "rotated certificate served")
	n := done.Load()
	poll.Eventually(t, 20*time.Second, func() bool { return done.Load() > n+10 }, "handshakes go on")
	close(stop)
	wg.Wait()
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d of %d handshakes failed during the rotation; first: %v", f, done.Load(), firstErr.Load())
	}
	t.Logf("%d handshakes, none failed", done.Load())
	dump, err := s.xds.ConfigDump("dynamic_active_secrets", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if d := string(dump); !strings.Contains(d, `"server-cert"`) || !strings.Contains(d, "[redacted]") || strings.Contains(d, "PRIVATE KEY") {
		t.Fatalf("config_dump of the secrets:\n%s", d)
	}
}
