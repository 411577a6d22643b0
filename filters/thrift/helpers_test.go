package thrift_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// proxyYAML is a sluice config with one thrift_proxy listener; filter is the
// thrift_proxy block (indented by the caller's own two spaces), clusters
// the clusters list.
func proxyYAML(filter, clusters string) string {
	return "listeners:\n  - name: thrift\n    address: 127.0.0.1:0\n    filters:\n      - thrift_proxy:\n" +
		indent(filter, 10) + "\nclusters:\n" + indent(clusters, 2) + "\n"
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// clusterYAML is one cluster of the given hosts, with optional thrift
// protocol options ("" for none).
func clusterYAML(name, opts string, hosts ...string) string {
	s := fmt.Sprintf("- name: %s\n  connect_timeout: 1s\n  endpoints: [%s]", name, strings.Join(quote(hosts), ", "))
	if opts != "" {
		s += "\n  thrift_protocol_options: " + opts
	}
	return s
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + s + `"`
	}
	return out
}

// downstream is the thrift_proxy transport/protocol fields for a client
// stack: auto where Envoy can detect it (lax binary it cannot).
func downstream(st thrifttest.Stack) string {
	if st.Protocol == "lax_binary" {
		return fmt.Sprintf("transport: %s\nprotocol: LAX_BINARY", strings.ToUpper(st.Transport))
	}
	return "transport: AUTO_TRANSPORT\nprotocol: AUTO_PROTOCOL"
}

// wantCounters asserts exact counter values, polling because the writer
// counts an answer a moment after the client read it.
func wantCounters(t *testing.T, s *sluicetest.Sluice, want map[string]uint64) {
	t.Helper()
	var bad []string
	check := func() bool {
		bad = bad[:0]
		for name, v := range want {
			if got := s.Counter(name); got != v {
				bad = append(bad, fmt.Sprintf("%s = %d, want %d", name, got, v))
			}
		}
		return len(bad) == 0
	}
	if !poll.Until(5*time.Second, check) {
		sort.Strings(bad)
		t.Fatalf("stats:\n%s", strings.Join(bad, "\n"))
	}
}
