package httpconn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/http2"
)

// TestExtendedConnectWebSocket: an RFC 8441 extended CONNECT (h2c,
// x/net/http2's client, :protocol websocket) reaches a real WebSocket
// server (coder/websocket, HTTP/1.1 Upgrade) as a GET with Upgrade; the
// 101 comes back as 200 and a masked text frame is echoed through.
// x/net/http2's server offers extended CONNECT only with
// GODEBUG=http2xconnect=1 (read at init), so the test runs itself again in
// a child process with it set.
func TestExtendedConnectWebSocket(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExtendedConnectWebSocket$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestExtendedConnectWebSocket") {
			t.Fatalf("with GODEBUG=http2xconnect=1: %v\n%s", err, out)
		}
		return
	}
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		c.Write(ctx, typ, append([]byte("echo "), msg...))
		c.Read(ctx) // until the client goes
	})
	s := startHCM(t, be.addr(), "", `[{match: {prefix: "/ws"}, route: {cluster: c}}]`)
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	pr, pw := io.Pipe()
	defer pw.Close()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: s.Addr("l"), Path: "/ws"},
		Host: "origin.test", Body: pr, Header: http.Header{
			":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, // the H1 server needs one; RFC 8441 has none
		}}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %q", resp.StatusCode, b)
	}
	// One masked text frame "hi" (RFC 6455 5.2), mask key 1,2,3,4.
	key := []byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | 2, key[0], key[1], key[2], key[3], 'h' ^ key[0], 'i' ^ key[1]}
	go pw.Write(frame)
	head := make([]byte, 2)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	if head[0] != 0x81 || head[1]&0x80 != 0 {
		t.Fatalf("frame head % x", head)
	}
	payload := make([]byte, head[1]&0x7f)
	if _, err := io.ReadFull(resp.Body, payload); err != nil || !bytes.Equal(payload, []byte("echo hi")) {
		t.Fatalf("payload %q %v", payload, err)
	}
	pw.Close()
	s.WaitCounter("http.ingress.downstream_cx_upgrades_total", 1, 5*time.Second)
	s.WaitGauge("http.ingress.downstream_cx_upgrades_active", 0, 5*time.Second)
}
