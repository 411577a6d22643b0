package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// envoyBootstrap is an Envoy v3 bootstrap with a tcp_proxy listener per
// address in front of cluster c at up; extra is added to the cluster.
func envoyBootstrap(admin, up string, listeners []string, extra string) string {
	host, port, _ := net.SplitHostPort(admin)
	s := fmt.Sprintf("admin:\n  access_log_path: /dev/null\n  address: {socket_address: {address: %s, port_value: %s}}\nstatic_resources:\n  listeners:\n", host, port)
	for i, l := range listeners {
		h, p, _ := net.SplitHostPort(l)
		s += fmt.Sprintf(`  - name: l%d
    address: {socket_address: {address: %s, port_value: %s}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: p%d, cluster: c}
`, i, h, p, i)
	}
	uh, uport, _ := net.SplitHostPort(up)
	return s + fmt.Sprintf(`  clusters:
  - name: c
    connect_timeout: 1s
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %s}}}}]}]
%s`, uh, uport, extra)
}

// TestValidateEnvoyBootstrap: validate reads Envoy files (detected, or
// forced with -config-format), prints ignored fields as warnings and
// refuses problems with their JSON path.
func TestValidateEnvoyBootstrap(t *testing.T) {
	dir := t.TempDir()
	good := envoyBootstrap("127.0.0.1:9901", "127.0.0.1:7000", []string{"127.0.0.1:0"}, "    dns_lookup_family: V4_ONLY\n")
	bad := envoyBootstrap("127.0.0.1:9901", "127.0.0.1:7000", []string{"127.0.0.1:0"}, "    lb_policy: CLUSTER_PROVIDED\n    transport_socket: {name: tls}\n")
	tests := []struct {
		name     string
		body     string
		args     []string
		wantCode int
		want     []string
	}{
		{"detected", good, nil, 0, []string{"static_resources.clusters[0].dns_lookup_family: accepted and ignored by sluice", ": OK"}},
		{"forced", good, []string{"-config-format", "envoy"}, 0, []string{": OK"}},
		{"refused", bad, nil, 1, []string{
			"static_resources.clusters[0].transport_socket.typed_config: required",
			`static_resources.clusters[0].lb_policy: unknown lb_policy "cluster_provided"`,
		}},
		{"read as sluice", good, []string{"-config-format", "sluice"}, 1, []string{"static_resources: unknown field"}},
		{"unknown format", good, []string{"-config-format", "istio"}, 2, []string{`unknown config format "istio"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			os.WriteFile(file, []byte(tc.body), 0o644)
			var out, errb bytes.Buffer
			code := run(append(append([]string{"validate"}, tc.args...), "-c", file), &out, &errb)
			text := out.String() + errb.String()
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.wantCode, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestBinaryEnvoyBootstrap runs the binary on an Envoy bootstrap: traffic
// passes, a changed file is reloaded as Envoy's format, and a bad one is
// refused with its Envoy path while the old config keeps serving.
func TestBinaryEnvoyBootstrap(t *testing.T) {
	bin := sluiceBinary(t)
	up := hiServer(t)
	admin, l1, l2 := freeAddr(t), freeAddr(t), freeAddr(t)
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	os.WriteFile(file, []byte(envoyBootstrap(admin, up.Addr().String(), []string{l1}, "")), 0o644)
	cmd := exec.Command(bin, "-c", file, "-watch-interval", "100ms")
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitFor(t, "/ready", func() bool { return get("http://"+admin+"/ready") == "LIVE\n" })
	through := func(addr string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got := through(l1); got != "hi" {
		t.Fatalf("through l1: %q", got)
	}
	waitFor(t, "tcp.p0 stats", func() bool {
		return strings.Contains(get("http://"+admin+"/stats?filter=tcp.p0.downstream_cx_total"), "tcp.p0.downstream_cx_total: 1")
	})

	os.WriteFile(file, []byte(envoyBootstrap(admin, up.Addr().String(), []string{l1, l2}, "")), 0o644)
	waitFor(t, "the second listener", func() bool { return through(l2) == "hi" })
	// /config_dump is Envoy's, and shows the reloaded bootstrap.
	waitFor(t, "the reloaded bootstrap in /config_dump", func() bool {
		d := get("http://" + admin + "/config_dump?resource=static_listeners&mask=listener.address")
		return strings.Contains(d, "envoy.admin.v3.ListenersConfigDump.StaticListener") &&
			strings.Count(d, `"port_value"`) == 2 && !strings.Contains(d, "filter_chains")
	})

	os.WriteFile(file, []byte(envoyBootstrap(admin, up.Addr().String(), []string{l1, l2}, "    type: ORIGINAL_DST\n")), 0o644)
	waitFor(t, "the refused reload", func() bool {
		return strings.Contains(logs.String(), `static_resources.clusters[0].type: unknown cluster type \"original_dst\"`)
	})
	if got := through(l2); got != "hi" {
		t.Fatalf("after a refused reload, through l2: %q", got)
	}
}

// TestValidateEnvoyFilesAndAddresses: the checks validate adds to a parse
// (files, -check-addresses) name the Envoy paths too, without the lines of
// the translated text.
func TestValidateEnvoyFilesAndAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	h, p, _ := net.SplitHostPort(busy.Addr().String())
	file := filepath.Join(t.TempDir(), "envoy.yaml")
	os.WriteFile(file, []byte(`
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: `+h+`, port_value: `+p+`}}
    filter_chains:
    - transport_socket:
        name: tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates: [{certificate_chain: {filename: missing.pem}, private_key: {filename: missing-key.pem}}]
      filters:
      - name: t
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c}
  clusters:
  - {name: c, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}}
`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "-c", file}, &out, &errb); code != 1 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	abs, _ := filepath.Abs("missing.pem") // Envoy opens relative names from the working directory
	want := file + ": static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename: " +
		abs + ": no such file or directory"
	if !strings.Contains(errb.String(), want+"\n") {
		t.Errorf("got\n%s\nwant a line\n%s", errb.String(), want)
	}
	os.WriteFile(file, []byte(envoyBootstrap("127.0.0.1:0", "127.0.0.1:7000", []string{busy.Addr().String()}, "")), 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", "-check-addresses", "-c", file}, &out, &errb); code != 1 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	want = file + ": static_resources.listeners[0].address: cannot bind " + busy.Addr().String() + ": bind: address already in use"
	if !strings.Contains(errb.String(), want+"\n") {
		t.Errorf("got\n%s\nwant\n%s", errb.String(), want)
	}
}
