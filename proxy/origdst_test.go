//go:build linux

package proxy_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestOriginalDstRedirect: a connection to 127.0.0.77:<port> that an
// iptables REDIRECT rule (nat OUTPUT) sends to sluice's listener gets its
// original destination back from SO_ORIGINAL_DST, so the chain naming that
// destination port and address serves it; a connection made to the
// listener directly keeps its own address and gets the default chain.
// Needs root and iptables (Debian's iptables, in .ci/deps.sh); the rule only
// matches 127.0.0.77 and a fresh port, and is removed at the end.
func TestOriginalDstRedirect(t *testing.T) {
	ipt, err := exec.LookPath("iptables")
	if err != nil {
		t.Skip("iptables not installed: the SO_ORIGINAL_DST path is then covered only by TestOriginalDstNotRedirected")
	}
	tags := map[string]string{"orig": tagServer(t, "orig"), "plain": tagServer(t, "plain")}
	origPort := testenv.FreePort(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: od
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.original_dst}]
    filter_chains:
      - match: {destination_port: %d, destination_prefixes: [127.0.0.77/32]}
        filters: [{tcp_proxy: {stat_prefix: orig, cluster: orig}}]
    default_filter_chain:
      filters: [{tcp_proxy: {stat_prefix: plain, cluster: plain}}]
clusters:
  - {name: orig, endpoints: ["%s"]}
  - {name: plain, endpoints: ["%s"]}
`, origPort, tags["orig"], tags["plain"]))
	rule := []string{"-t", "nat", "OUTPUT", "-p", "tcp", "-d", "127.0.0.77", "--dport", strconv.Itoa(origPort),
		"-j", "REDIRECT", "--to-ports", port(s.Addr("od"))}
	add := append([]string{rule[0], rule[1], "-A"}, rule[2:]...)
	if out, err := exec.Command(ipt, add...).CombinedOutput(); err != nil {
		t.Skipf("iptables cannot add a nat rule here (%v: %s): the SO_ORIGINAL_DST path is then covered only by TestOriginalDstNotRedirected", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		del := append([]string{rule[0], rule[1], "-D"}, rule[2:]...)
		if out, err := exec.Command(ipt, del...).CombinedOutput(); err != nil {
			t.Errorf("removing the iptables rule: %v: %s", err, out)
		}
	})
	if got := tagVia(t, "127.0.0.1", fmt.Sprintf("127.0.0.77:%d", origPort), []byte("x")); got != "orig" {
		t.Errorf("redirected connection: chain %s, want orig", got)
	}
	if got := tagVia(t, "127.0.0.1", s.Addr("od"), []byte("x")); got != "plain" {
		t.Errorf("direct connection: chain %s, want plain", got)
	}
}

// TestOriginalDstNotRedirected: without a redirect, original_dst leaves the
// socket's local address (SO_ORIGINAL_DST fails or names it), so chains
// match as without the filter.
func TestOriginalDstNotRedirected(t *testing.T) {
	tag := tagServer(t, "local")
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: od
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.original_dst}]
    filter_chains:
      - match: {destination_prefixes: [127.0.0.1/32]}
        filters: [{tcp_proxy: {stat_prefix: l, cluster: local}}]
clusters:
  - {name: local, endpoints: ["%s"]}
`, tag))
	if got := tagVia(t, "127.0.0.1", s.Addr("od"), []byte("x")); got != "local" {
		t.Errorf("chain %s, want local", got)
	}
}
