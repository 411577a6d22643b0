package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// smokeThrift runs examples/thrift.yaml against two Python Thrift servers:
// the Python client's calls reach the header/compact server through
// translation, and a multiplexed Admin call the other server.
func smokeThrift(t *testing.T, file string) {
	admin := testenv.ThriftPy(t, "admin", "framed", "binary")
	calc := testenv.ThriftPy(t, "calc", "header", "compact")
	s := startExample(t, file, map[string]string{"127.0.0.1:9090": admin.Addr, "127.0.0.1:9091": calc.Addr})
	out, err := testenv.ThriftPyClient(t, s.Addr("thrift"), "framed", "binary", "")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "whoami calc") || !strings.Contains(out, "calcerror 3") {
		t.Fatalf("python client through the example: %v\n%s", err, out)
	}
	a := thrifttest.DialAdmin(t, s.Addr("thrift"), thrifttest.Stack{Transport: "framed", Protocol: "binary"})
	if v, err := a.Whoami(context.Background()); err != nil || v != "admin@admin" {
		t.Fatalf("Admin:whoami = %q, %v", v, err)
	}
	s.WaitCounter("thrift.calc.response_success", 5, 5e9)
	if n := s.Counter("cluster.admin.thrift.upstream_rq_call"); n != 1 {
		t.Fatalf("admin calls %d, want 1", n)
	}
}
