package thrift_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// callAll makes the same calls through any client and checks the answers:
// three successes, a declared exception, an application exception and a
// oneway note.
func callAll(t *testing.T, c *thrifttest.Client, tag string) {
	t.Helper()
	ctx := context.Background()
	if v, err := c.Add(ctx, 40, 2); err != nil || v != 42 {
		t.Fatalf("add: %v %v", v, err)
	}
	if v, err := c.Echo(ctx, "hello "+tag); err != nil || v != "hello "+tag {
		t.Fatalf("echo: %q %v", v, err)
	}
	it, err := c.Describe(ctx, &calc.Item{Name: "w", Values: []int64{7}, Attrs: map[string]float64{"x": 0.5}, Blob: []byte{0, 1}})
	if err != nil || it.Name != "w" || len(it.Values) != 2 || it.Values[1] != 1 || it.Attrs["x"] != 0.5 || string(it.Blob) != "\x00\x01" {
		t.Fatalf("describe: %+v %v", it, err)
	}
	var ce *calc.CalcError
	if _, err := c.Fail(ctx, 3); !errors.As(err, &ce) || ce.Code != 3 {
		t.Fatalf("fail(3): %v, want CalcError 3", err)
	}
	var ae thrift.TApplicationException
	if _, err := c.Fail(ctx, -1); !errors.As(err, &ae) || ae.TypeId() != thrift.INTERNAL_ERROR {
		t.Fatalf("fail(-1): %v, want TApplicationException", err)
	}
	if err := c.Note(ctx, "note "+tag); err != nil {
		t.Fatalf("note: %v", err)
	}
}

// callStats are the exact stats of one callAll through prefix to cluster
// by a Go client. apache/thrift's Go client sends a oneway call with
// message type CALL (lib/go/thrift/client.go), so sluice, like Envoy,
// counts it as a call that awaits a reply; the note is still pending when
// the client leaves (cx_destroy_remote_with_active_rq).
func callStats(prefix, cluster string) map[string]uint64 {
	p, c := "thrift."+prefix+".", "cluster."+cluster+".thrift."
	return map[string]uint64{
		p + "request": 6, p + "request_call": 6, p + "request_oneway": 0, p + "request_invalid_type": 0,
		p + "request_decoding_error": 0, p + "response": 5, p + "response_reply": 4, p + "response_success": 3,
		p + "response_error": 1, p + "response_exception": 1, p + "route_missing": 0,
		c + "upstream_rq_call": 6, c + "upstream_rq_oneway": 0, c + "upstream_resp_reply": 4,
		c + "upstream_resp_success": 3, c + "upstream_resp_error": 1, c + "upstream_resp_exception": 1,
		"cluster." + cluster + ".upstream_rq_total": 6,
	}
}

// TestEveryStack runs the calls in every transport x protocol, with the
// library's Go client and server speaking the same stack through sluice.
func TestEveryStack(t *testing.T) {
	for _, st := range thrifttest.Stacks {
		t.Run(st.String(), func(t *testing.T) {
			srv := thrifttest.StartServer(t, "b1", st)
			s := sluicetest.Start(t, proxyYAML("stat_prefix: tp\n"+downstream(st)+`
route_config:
  routes:
    - match: {service_name: ""}
      route: {cluster: calc}`, clusterYAML("calc", "", srv.Addr)))
			c := thrifttest.Dial(t, s.Addr("thrift"), st, "")
			callAll(t, c, st.String())
			if n := <-srv.Notes; n != "note "+st.String() {
				t.Fatalf("note %q", n)
			}
			wantCounters(t, s, callStats("tp", "calc"))
			if g := s.Gauge("thrift.tp.request_active"); g != 1 {
				t.Fatalf("request_active %d, want 1 (the Go client's oneway note)", g)
			}
			c.Trans.Close()
			wantCounters(t, s, map[string]uint64{"thrift.tp.cx_destroy_remote_with_active_rq": 1})
		})
	}
}

// TestTranslate has clients of every stack reach a server of another
// through the cluster's thrift_protocol_options.
func TestTranslate(t *testing.T) {
	for _, pair := range []struct{ down, up thrifttest.Stack }{
		{thrifttest.Stack{Transport: "framed", Protocol: "binary"}, thrifttest.Stack{Transport: "header", Protocol: "compact"}},
		{thrifttest.Stack{Transport: "header", Protocol: "compact"}, thrifttest.Stack{Transport: "unframed", Protocol: "binary"}},
		{thrifttest.Stack{Transport: "unframed", Protocol: "lax_binary"}, thrifttest.Stack{Transport: "framed", Protocol: "compact"}},
		{thrifttest.Stack{Transport: "framed", Protocol: "compact"}, thrifttest.Stack{Transport: "framed", Protocol: "lax_binary"}},
	} {
		t.Run(pair.down.String()+"->"+pair.up.String(), func(t *testing.T) {
			srv := thrifttest.StartServer(t, "b1", pair.up)
			opts := fmt.Sprintf("{transport: %s, protocol: %s}", upper(pair.up.Transport), upper(pair.up.Protocol))
			s := sluicetest.Start(t, proxyYAML("stat_prefix: tr\n"+downstream(pair.down)+`
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: calc}`, clusterYAML("calc", opts, srv.Addr)))
			c := thrifttest.Dial(t, s.Addr("thrift"), pair.down, "")
			callAll(t, c, "tr")
			wantCounters(t, s, callStats("tr", "calc"))
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
