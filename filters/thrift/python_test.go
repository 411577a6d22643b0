package thrift_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// pyWant is what calc_py.py's client prints when every call works.
const pyWant = `add 42
echo py
describe w [7, 1] {'x': 0.5} b'\x00\x01'
calcerror 3
appexception 6
whoami `

// TestPython has python3-thrift's client call a python3-thrift server
// through sluice in every stack, and the Go client call the Python server.
// The Python client sends its oneway note as ONEWAY (the Go client does
// not), so the stats are exact: 7 requests, one of them oneway.
func TestPython(t *testing.T) {
	for _, st := range thrifttest.Stacks {
		t.Run(st.String(), func(t *testing.T) {
			up, opts := st, ""
			if st.Protocol == "lax_binary" { // python3-thrift cannot serve lax binary: translate
				up.Protocol = "binary"
				opts = "{protocol: BINARY}"
			}
			srv := testenv.ThriftPy(t, "py", up.Transport, up.Protocol)
			s := sluicetest.Start(t, proxyYAML("stat_prefix: py\n"+downstream(st)+`
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: py}`, clusterYAML("py", opts, srv.Addr)))
			out, err := testenv.ThriftPyClient(t, s.Addr("thrift"), st.Transport, st.Protocol, "")
			if err != nil || strings.TrimSpace(out) != pyWant+"py" {
				t.Fatalf("python client: %v\n%s\nserver log:\n%s", err, out, srv.Log())
			}
			wantCounters(t, s, map[string]uint64{
				"thrift.py.request": 7, "thrift.py.request_call": 6, "thrift.py.request_oneway": 1,
				"thrift.py.response": 6, "thrift.py.response_reply": 5, "thrift.py.response_success": 4,
				"thrift.py.response_error": 1, "thrift.py.response_exception": 1,
				"cluster.py.thrift.upstream_rq_oneway": 1, "cluster.py.thrift.upstream_rq_call": 6,
				"thrift.py.cx_destroy_remote_with_active_rq": 0,
			})
			if up == st { // the Go client against the Python server
				c := thrifttest.Dial(t, s.Addr("thrift"), st, "Calc")
				if v, err := c.Add(context.Background(), 1, 2); err != nil || v != 3 {
					t.Fatalf("go client: %v %v", v, err)
				}
			}
		})
	}
}

// TestServerKilledMidCall kills the Python server while a call waits for
// its reply: the client gets a TApplicationException, and with
// close_downstream_on_upstream_error false keeps a usable connection.
func TestServerKilledMidCall(t *testing.T) {
	for _, closeDown := range []bool{true, false} {
		name := map[bool]string{true: "close", false: "keep"}[closeDown]
		t.Run(name, func(t *testing.T) {
			dying := testenv.ThriftPy(t, "dying", "framed", "binary")
			spare := thrifttest.StartServer(t, "spare", framedBinary)
			cfg := "false"
			if closeDown {
				cfg = "true"
			}
			s := sluicetest.Start(t, proxyYAML(`stat_prefix: kill
thrift_filters:
  - name: envoy.filters.thrift.router
    typed_config: {close_downstream_on_upstream_error: `+cfg+`}
route_config:
  routes:
    - match: {method_name: sleep}
      route: {cluster: dying}
    - match: {method_name: ""}
      route: {cluster: spare}`, clusterYAML("dying", "", dying.Addr)+"\n"+clusterYAML("spare", "", spare.Addr)))
			c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
			errc := make(chan error, 1)
			go func() {
				_, err := c.Sleep(context.Background(), -1)
				errc <- err
			}()
			s.WaitGauge("cluster.dying.upstream_rq_active", 1, 10e9)
			dying.Kill()
			var ae thrift.TApplicationException
			if err := <-errc; !errors.As(err, &ae) || ae.TypeId() != thrift.INTERNAL_ERROR {
				t.Fatalf("sleep on a killed server: %v, want TApplicationException INTERNAL_ERROR", err)
			}
			wantCounters(t, s, map[string]uint64{
				"thrift.kill.response_exception": 1, "cluster.dying.thrift.upstream_resp_exception_local": 1,
				"cluster.dying.upstream_cx_destroy_remote": 1,
			})
			_, err := c.Add(context.Background(), 1, 2)
			if closeDown && err == nil {
				t.Fatal("connection kept after an upstream reset with close_downstream_on_upstream_error")
			}
			if !closeDown && err != nil {
				t.Fatalf("connection lost: %v", err)
			}
		})
	}
}
