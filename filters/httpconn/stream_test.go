package httpconn_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// TestWebSocketThroughProxy echoes WebSocket messages through an Upgrade
// tunnel.
func TestWebSocketThroughProxy(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	})
	s := startHCM(t, be.addr(), "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+s.Addr("l")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	for _, m := range []string{"one", strings.Repeat("x", 100000), "three"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "echo:"+m {
			t.Fatalf("got %d bytes, err %v", len(got), err)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
	s.WaitCounter("http.ingress.downstream_cx_upgrades_total", 1, 5*time.Second)
	s.WaitGauge("http.ingress.downstream_cx_upgrades_active", 0, 5*time.Second)
}

// TestExpectContinueAndHTTP10 checks 100 Continue before the body and an
// HTTP/1.0 request served (accept_http_10) and refused (426, Envoy's default).
func TestExpectContinueAndHTTP10(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "http_protocol_options: {accept_http_10: true}", "")
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	io.WriteString(c, "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q before sending the body", line)
	}
	br.ReadString('\n')
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "POST /e hello" {
		t.Fatalf("got %q", b)
	}
	out := rawExchange(t, s.Addr("l"), "GET /old HTTP/1.0\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK") || !strings.HasSuffix(out, "GET /old ") {
		t.Fatalf("HTTP/1.0: %q", out)
	}
	if out := rawExchange(t, s.Addr("l"), "POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx"); !strings.HasPrefix(out, "HTTP/1.1 417 ") {
		t.Fatalf("Expect: magic: %q", out)
	}
	s2 := startHCM(t, be.addr(), "", "")
	if out := rawExchange(t, s2.Addr("l"), "GET / HTTP/1.0\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 426 ") {
		t.Fatalf("HTTP/1.0 refused: %q", out)
	}
}

// TestSlowReaderBounded: a client that stops reading a large response makes
// the upstream stop writing; sluice holds its copy buffer, not the body.
func TestSlowReaderBounded(t *testing.T) {
	var written atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for written.Load() < 1<<30 {
			n, err := w.Write(buf)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	s := startHCM(t, be.addr(), "", "")
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	// Wait until the upstream is stuck: its count stops moving.
	last := int64(-1)
	poll.Eventually(t, 20*time.Second, func() bool {
		n := written.Load()
		stuck := n > 0 && n == last
		last = n
		return stuck
	}, "upstream never blocked")
	if n := written.Load(); n > 32<<20 {
		t.Fatalf("upstream wrote %d bytes to a client that reads nothing", n)
	}
	t.Logf("upstream blocked after %d bytes", written.Load())
}

// TestAccessLogFormats writes Envoy's default format and a json_format.
func TestAccessLogFormats(t *testing.T) {
	be := startBackend(t, echoHandler)
	dir := t.TempDir()
	text, js := dir+"/text.log", dir+"/json.log"
	s := startHCM(t, be.addr(), `access_log:
  - {path: `+text+`}
  - path: `+js+`
    json_format: {code: "%RESPONSE_CODE%", method: "%REQ(:METHOD)%", flags: "%RESPONSE_FLAGS%", host: "%UPSTREAM_HOST%", ua: "%REQ(USER-AGENT):5%"}`, "")
	req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/logged", nil)
	req.Header.Set("User-Agent", "tester/1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var tl, jl string
	poll.Eventually(t, 5*time.Second, func() bool {
		a, _ := os.ReadFile(text)
		b, _ := os.ReadFile(js)
		tl, jl = string(a), string(b)
		return tl != "" && jl != ""
	}, "no access log lines")
	if !strings.Contains(tl, `"GET /logged HTTP/1.1" 200 - 0 12 `) || !strings.Contains(tl, `"tester/1.0"`) ||
		!strings.HasSuffix(tl, `"`+be.addr()+"\"\n") {
		t.Fatalf("text line %q", tl)
	}
	want := `{"code":200,"flags":null,"host":"` + be.addr() + `","method":"GET","ua":"teste"}` + "\n"
	if jl != want {
		t.Fatalf("json line %q, want %q", jl, want)
	}
}

// TestH2CUpgradeNotForwarded: curl --http2 on cleartext asks for an h2c
// upgrade; sluice answers over HTTP/1.1 and the upstream sees no Upgrade.
func TestH2CUpgradeNotForwarded(t *testing.T) {
	var upgrade atomic.Value
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		upgrade.Store(r.Header.Get("Upgrade") + "|" + r.Header.Get("Http2-Settings"))
		io.WriteString(w, "plain")
	})
	s := startHCM(t, be.addr(), "", "")
	out, err := exec.Command(needTool(t, "curl"), "-sS", "--http2", "-w", " %{http_version}", "http://"+s.Addr("l")+"/").CombinedOutput()
	if err != nil || string(out) != "plain 1.1" {
		t.Fatalf("curl: %v %q", err, out)
	}
	if got := upgrade.Load(); got != "|" {
		t.Fatalf("upstream saw Upgrade|HTTP2-Settings %q", got)
	}
}
