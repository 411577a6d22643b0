package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// zkCli is Debian's ZooKeeper shell (package zookeeper).
const zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

// runZkCli feeds commands to zkCli.sh's interactive shell at addr and
// returns its output.
func runZkCli(t *testing.T, addr string, cmds ...string) string {
	t.Helper()
	return runZkCliArgs(t, []string{"-server", addr}, cmds...)
}

// runZkCliArgs is runZkCli with the shell's own arguments.
func runZkCliArgs(t *testing.T, args []string, cmds ...string) string {
	t.Helper()
	if _, err := os.Stat(zkCli); err != nil {
		t.Fatalf("%s missing: apt-get install -y zookeeper: %v", zkCli, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCli, args...)
	cmd.Stdin = strings.NewReader(strings.Join(append(cmds, "quit"), "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, out)
	}
	return string(out)
}

// TestZooKeeperZkCli drives the Java client, which requires replies in request
// order, through zookeeper_proxy and an rbac refusal.
func TestZooKeeperZkCli(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	base := fmt.Sprintf("/cli-%d", time.Now().UnixNano())
	secret := base + "-secret"
	s := sluicetest.Start(t, zkYAML(srv.Addr(), "", rbacFilters(secret, base+"-ro")))
	direct := connect(t, srv.Addr(), nil)
	must(direct.Create(secret, []byte("hidden"), 0, acl))

	out := runZkCli(t, s.Addr("zk"),
		"create "+base+" first",
		"get "+base,
		"set "+base+" second",
		"get "+secret,
		"stat "+base,
		"create -e "+base+"/eph e",
		"ls "+base,
		"delete "+base+"/eph",
		"get "+base,
	)
	for _, want := range []string{"Created " + base, "first", "second", "Insufficient permission : " + secret, "[eph]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "out of order") || strings.Contains(out, "Xid") {
		t.Errorf("the client saw replies out of order:\n%s", out)
	}
	if b, _ := must2(direct.Get(base)); string(b) != "second" {
		t.Fatalf("%s = %q", base, b)
	}
	s.WaitCounter("zk.zookeeper.close_resp", 1, 30*time.Second)
	for name, want := range map[string]uint64{
		"connect_rq": 1, "connect_resp": 1, "create_rq": 2, "create_resp": 2,
		"getdata_rq": 3, "getdata_resp": 3, "setdata_rq": 1, "setdata_resp": 1,
		"exists_rq": 1, "exists_resp": 1, "getchildren2_rq": 1, "getchildren2_resp": 1,
		"delete_rq": 1, "delete_resp": 1, "close_rq": 1, "requests_denied": 1, "decoder_error": 0,
	} {
		if got := s.Counter("zk.zookeeper." + name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if t.Failed() {
		_, all := s.AdminGet("/stats?filter=zk.zookeeper&usedonly")
		t.Logf("zkCli output:\n%s\nstats:\n%s", out, all)
	}
}

// TestZooKeeperZkCliOpcodes drives the opcodes go-zookeeper lacks through
// zkCli.sh, read-only connect included, and counts each exactly.
func TestZooKeeperZkCliOpcodes(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	base := fmt.Sprintf("/opc-%d", time.Now().UnixNano())
	s := sluicetest.Start(t, zkYAML(srv.Addr(), "", ""))
	direct := connect(t, srv.Addr(), nil)
	must(direct.Create(base, []byte("x"), 0, acl))
	out := runZkCliArgs(t, []string{"-server", s.Addr("zk"), "-r"},
		"create -c "+base+"/container",
		"create -e "+base+"/eph",
		"getEphemerals "+base,
		"getAllChildrenNumber "+base,
		"addWatch -m PERSISTENT "+base,
		"removewatches "+base+" -a",
		"getAcl "+base,
		"setAcl "+base+" world:anyone:cdrwa",
		"sync "+base,
		"whoami",
	)
	if !strings.Contains(out, base+"/eph") || !strings.Contains(out, "'world,'anyone") {
		t.Errorf("unexpected output:\n%s", out)
	}
	s.WaitCounter("zk.zookeeper.close_resp", 1, 30*time.Second)
	for name, want := range map[string]uint64{
		"connect_readonly_rq": 1, "connect_rq": 0, "connect_resp": 1,
		"createcontainer_rq": 1, "createcontainer_resp": 1, "create_rq": 1, "create_resp": 1,
		"getephemerals_rq": 1, "getephemerals_resp": 1, "getallchildrennumber_rq": 1, "getallchildrennumber_resp": 1,
		"addwatch_rq": 1, "addwatch_resp": 1, "removewatches_rq": 1, "removewatches_resp": 1,
		"getacl_rq": 1, "getacl_resp": 1, "setacl_rq": 1, "setacl_resp": 1, "sync_rq": 1, "sync_resp": 1,
		"decoder_error": 0,
	} {
		if got := s.Counter("zk.zookeeper." + name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if t.Failed() {
		_, all := s.AdminGet("/stats?filter=zk.zookeeper&usedonly")
		t.Logf("zkCli output:\n%s\nstats:\n%s", out, all)
	}
}
