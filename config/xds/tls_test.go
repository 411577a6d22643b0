package xds_test

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

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// notePeer records the client certificate of a stream, if any.
func (cp *controlPlane) notePeer(ctx context.Context) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return
	}
	cp.mu.Lock()
	cp.peers = append(cp.peers, ti.State.PeerCertificates[0].Subject.CommonName)
	cp.mu.Unlock()
}

func (cp *controlPlane) peerNames() []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]string(nil), cp.peers...)
}

// startControlPlaneMTLS is go-control-plane's server behind TLS that
// requires a client certificate issued by ca.
func startControlPlaneMTLS(t *testing.T, ca *testenv.CA) *controlPlane {
	srvLeaf, err := ca.Issue(testenv.LeafOptions{CommonName: "xds.test", DNS: []string{"xds.test"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(srvLeaf.CertPEM, srvLeaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	cp := &controlPlane{t: t, cache: cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil),
		opts: []grpc.ServerOption{grpc.Creds(creds)}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cp.addr = ln.Addr().String()
	cp.serve(ln)
	t.Cleanup(cp.stop)
	return cp
}

// TestControlPlaneMTLS: the envoy_grpc cluster's transport_socket
// (UpstreamTlsContext with a client certificate) is what the xDS stream
// dials with; the control plane verifies sluice's certificate and sluice
// the control plane's, and resources flow.
func TestControlPlaneMTLS(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			dir := t.TempDir()
			ca, err := testenv.NewCA("xds-ca")
			if err != nil {
				t.Fatal(err)
			}
			caFile := dir + "/ca.pem"
			if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
				t.Fatal(err)
			}
			leaf, err := ca.Issue(testenv.LeafOptions{CommonName: "sluice-client"})
			if err != nil {
				t.Fatal(err)
			}
			certFile, keyFile, err := leaf.Write(dir, "client")
			if err != nil {
				t.Fatal(err)
			}
			cp := startControlPlaneMTLS(t, ca)
			backend := testenv.Redis(t)
			addr := freeAddr(t)
			cp.set("1", map[resource.Type][]types.Resource{
				resource.ClusterType:  {staticCluster("redis", "127.0.0.1:"+itoa(backend.Port()))},
				resource.ListenerType: {tcpListener("front", addr, "redis")}})
			bs := strings.Replace(bootstrap(cp, true, delta), "    connect_timeout: 1s\n", fmt.Sprintf(`    connect_timeout: 1s
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: xds.test
        common_tls_context:
          alpn_protocols: [h2]   # gRPC servers (grpc-go >= 1.67) refuse TLS without ALPN h2
          tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
          validation_context: {trusted_ca: {filename: %s}}
`, certFile, keyFile, caFile), 1)
			s := startSluice(t, bs)
			s.waitCounter("listener_manager.lds.update_success", 1)
			poll.Eventually(t, 20*time.Second, func() bool { p, err := backendPort(addr); return err == nil && p != "" },
				"the listener from the TLS control plane serves")
			if got := cp.peerNames(); len(got) == 0 || got[0] != "sluice-client" {
				t.Fatalf("client certificates seen by the control plane: %v", got)
			}
			if n := s.counter("cluster.xds.ssl.handshake"); n == 0 {
				t.Fatalf("cluster.xds.ssl.handshake = 0")
			}
		})
	}
}

// TestControlPlaneTLSUntrusted: a control plane whose certificate the
// cluster's validation_context does not trust is never spoken to.
func TestControlPlaneTLSUntrusted(t *testing.T) {
	dir := t.TempDir()
	ca, err := testenv.NewCA("xds-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := testenv.NewCA("other-ca")
	if err != nil {
		t.Fatal(err)
	}
	caFile := dir + "/other.pem"
	if err := os.WriteFile(caFile, other.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cp := startControlPlaneMTLS(t, ca)
	cp.set("1", map[resource.Type][]types.Resource{resource.ClusterType: {staticCluster("c", "127.0.0.1:1")}})
	bs := strings.Replace(bootstrap(cp, true, false), "    connect_timeout: 1s\n", fmt.Sprintf(`    connect_timeout: 1s
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: xds.test
        common_tls_context:
          alpn_protocols: [h2]
          validation_context: {trusted_ca: {filename: %s}}
`, caFile), 1)
	s := startSluice(t, bs)
	s.waitCounter("cluster.xds.ssl.fail_verify_error", 2)
	if n := s.counter("cluster_manager.cds.update_success"); n != 0 {
		t.Fatalf("cds.update_success = %d from an untrusted control plane", n)
	}
	if len(cp.peerNames()) != 0 {
		t.Fatalf("streams opened: %v", cp.peerNames())
	}
}
