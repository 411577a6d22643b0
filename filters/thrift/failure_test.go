package thrift_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// TestTimeout: a reply that never comes is answered with a
// TApplicationException after request_timeout; the connection stays usable
// and the late reply is dropped.
func TestTimeout(t *testing.T) {
	srv := thrifttest.StartServer(t, "slow", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: to
request_timeout: 200ms
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: slow}`, clusterYAML("slow", "", srv.Addr)))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	var ae thrift.TApplicationException
	if _, err := c.Sleep(context.Background(), 1500); !errors.As(err, &ae) || ae.TypeId() != thrift.INTERNAL_ERROR || !strings.Contains(ae.Error(), "timeout") {
		t.Fatalf("sleep past the timeout: %v", err)
	}
	if v, err := c.Add(context.Background(), 2, 3); err != nil || v != 5 {
		t.Fatalf("add after a timeout: %v %v", v, err)
	}
	wantCounters(t, s, map[string]uint64{
		"thrift.to.upstream_rq_timeout": 1, "thrift.to.response_exception": 1, "thrift.to.response_success": 1,
		"cluster.slow.thrift.upstream_resp_exception_local": 1,
	})
	// The late reply of sleep arrives on the shared connection and is dropped.
	if v, err := c.Echo(context.Background(), "x"); err != nil || v != "x" {
		t.Fatalf("echo: %v %v", v, err)
	}
}

// TestConnectFailure: a cluster whose host refuses connections answers
// with a TApplicationException; close_downstream_on_upstream_error false
// keeps the client's connection.
func TestConnectFailure(t *testing.T) {
	dead := testenv.FreePort(t)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: cf
thrift_filters: [{name: envoy.filters.thrift.router, typed_config: {close_downstream_on_upstream_error: false}}]
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: dead}`, clusterYAML("dead", "", net.JoinHostPort("127.0.0.1", itoa(dead)))))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	for i := 0; i < 2; i++ {
		var ae thrift.TApplicationException
		if _, err := c.Add(context.Background(), 1, 2); !errors.As(err, &ae) || ae.TypeId() != thrift.INTERNAL_ERROR {
			t.Fatalf("call %d to a dead host: %v", i, err)
		}
	}
	wantCounters(t, s, map[string]uint64{
		"thrift.cf.response_exception": 2, "cluster.dead.upstream_cx_connect_fail": 2,
		"cluster.dead.thrift.upstream_resp_exception_local": 2,
	})
}

// TestOverflow: max_requests 1 on the cluster; a second concurrent call is
// refused locally (upstream_rq_pending_overflow) while the first completes.
func TestOverflow(t *testing.T) {
	srv := thrifttest.StartServer(t, "one", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: of
thrift_filters: [{name: envoy.filters.thrift.router, typed_config: {close_downstream_on_upstream_error: false}}]
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: one}`, clusterYAML("one", "", srv.Addr)+`
  circuit_breakers: {thresholds: [{max_requests: 1}]}`))
	slow := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	done := make(chan error, 1)
	go func() { _, err := slow.Sleep(context.Background(), 1000); done <- err }()
	s.WaitGauge("cluster.one.upstream_rq_active", 1, 10*time.Second)
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	var ae thrift.TApplicationException
	if _, err := c.Add(context.Background(), 1, 2); !errors.As(err, &ae) || !strings.Contains(ae.Error(), "max_requests") {
		t.Fatalf("call over max_requests: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if v, err := c.Add(context.Background(), 1, 2); err != nil || v != 3 {
		t.Fatalf("after overflow: %v %v", v, err)
	}
	wantCounters(t, s, map[string]uint64{"cluster.one.upstream_rq_pending_overflow": 1, "thrift.of.response_exception": 1})
}

// TestBadFrames: a truncated frame and an oversized frame close only their
// own connection and are counted; another client is unaffected.
func TestBadFrames(t *testing.T) {
	srv := thrifttest.StartServer(t, "ok", framedBinary)
	s := sluicetest.Start(t, `listeners:
  - name: thrift
    address: 127.0.0.1:0
    per_connection_buffer_limit_bytes: 65536
    filters:
      - thrift_proxy:
          stat_prefix: bad
          transport: FRAMED
          route_config: {routes: [{match: {method_name: ""}, route: {cluster: ok}}]}
clusters:
`+indent(clusterYAML("ok", "", srv.Addr), 2)+"\n")
	good := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	if _, err := good.Add(context.Background(), 1, 1); err != nil {
		t.Fatal(err)
	}
	raw := func(b []byte, closeWrite bool) error {
		c, err := net.Dial("tcp", s.Addr("thrift"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(b)
		if closeWrite {
			c.(*net.TCPConn).CloseWrite()
		}
		_, err = bufio.NewReader(c).ReadByte()
		return err
	}
	// Oversized: a frame header announcing 1 MiB against a 64 KiB limit.
	big := binary.BigEndian.AppendUint32(nil, 1<<20)
	big = append(big, 0x80, 0x01, 0x00, 0x01)
	if err := raw(big, false); !errors.Is(err, io.EOF) {
		t.Fatalf("oversized frame: read %v, want the connection closed", err)
	}
	// Truncated: half a frame, then the client closes its side.
	trunc := binary.BigEndian.AppendUint32(nil, 100)
	trunc = append(trunc, 0x80, 0x01, 0x00, 0x01, 0, 0)
	if err := raw(trunc, true); !errors.Is(err, io.EOF) {
		t.Fatalf("truncated frame: read %v, want EOF", err)
	}
	// Garbage: not Thrift at all ("GET " read as a frame size is too large).
	if err := raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false); !errors.Is(err, io.EOF) {
		t.Fatalf("garbage: read %v, want EOF", err)
	}
	wantCounters(t, s, map[string]uint64{"thrift.bad.request_decoding_error": 3, "thrift.bad.request_too_large": 2})
	if v, err := good.Add(context.Background(), 2, 2); err != nil || v != 4 {
		t.Fatalf("the good client after bad ones: %v %v", v, err)
	}
}

// TestMaxRequestsPerConnection closes a client's connection after its
// second request has been answered.
func TestMaxRequestsPerConnection(t *testing.T) {
	srv := thrifttest.StartServer(t, "m", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: mr
max_requests_per_connection: 2
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: m}`, clusterYAML("m", "", srv.Addr)))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	for i := int32(0); i < 2; i++ {
		if v, err := c.Add(context.Background(), i, 1); err != nil || v != i+1 {
			t.Fatalf("call %d: %v %v", i, v, err)
		}
	}
	if _, err := c.Add(context.Background(), 1, 1); err == nil {
		t.Fatal("third call on a connection limited to 2 requests succeeded")
	}
	wantCounters(t, s, map[string]uint64{"thrift.mr.downstream_cx_max_requests": 1, "thrift.mr.request": 2})
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestProtocolViolations: a client that sends a reply is closed
// (request_invalid_type); one that sends garbage after a call still in
// flight is closed with that call counted (cx_destroy_local_with_active_rq).
func TestProtocolViolations(t *testing.T) {
	srv := thrifttest.StartServer(t, "pv", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: pv
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: pv}`, clusterYAML("pv", "", srv.Addr)))
	send := func(b []byte) {
		c, err := net.Dial("tcp", s.Addr("thrift"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(b)
		io.Copy(io.Discard, c) // until sluice closes
	}
	call := thrifttest.Capture(framedBinary, "", func(ctx context.Context, c *calc.CalcClient) { c.Sleep(ctx, 2000) })
	reply := append([]byte(nil), call...)
	reply[4+3] = 2 // message type REPLY in the strict binary version word
	send(reply)
	wantCounters(t, s, map[string]uint64{"thrift.pv.request_invalid_type": 1, "thrift.pv.request": 1})
	send(append(call, "garbage!"...))
	wantCounters(t, s, map[string]uint64{"thrift.pv.cx_destroy_local_with_active_rq": 1, "thrift.pv.request_decoding_error": 1})
}

// TestPipelinedWithinBufferLimit: a client pipelining 8 calls of 30 KiB
// through a 64 KiB buffer limit gets all 8 answers: sluice holds at most
// two calls at a time and reads the next as answers go out.
func TestPipelinedWithinBufferLimit(t *testing.T) {
	srv := thrifttest.StartServer(t, "pl", framedBinary)
	s := sluicetest.Start(t, `listeners:
  - name: thrift
    address: 127.0.0.1:0
    per_connection_buffer_limit_bytes: 65536
    filters:
      - thrift_proxy:
          stat_prefix: pl
          route_config: {routes: [{match: {method_name: ""}, route: {cluster: pl}}]}
clusters:
`+indent(clusterYAML("pl", "", srv.Addr), 2)+"\n")
	big := strings.Repeat("z", 30<<10)
	var in []byte
	for i := 0; i < 8; i++ {
		in = append(in, thrifttest.Capture(framedBinary, "", func(ctx context.Context, c *calc.CalcClient) { c.Echo(ctx, big) })...)
	}
	c, err := net.Dial("tcp", s.Addr("thrift"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(in)
	br := bufio.NewReader(c)
	for i := 0; i < 8; i++ {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if _, err := br.Discard(int(binary.BigEndian.Uint32(hdr[:]))); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	wantCounters(t, s, map[string]uint64{"thrift.pl.response_success": 8, "thrift.pl.request_decoding_error": 0})
}
