package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpListsSubcommands: -h and help name every subcommand.
func TestHelpListsSubcommands(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"validate", "-h"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		text := out.String() + errb.String()
		for _, want := range []string{"sluice [run] -c FILE", "sluice validate -c FILE", "sluice version", "-check-addresses", "-watch-interval"} {
			if !strings.Contains(text, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, text)
			}
		}
	}
}

// TestValidateCatchesWhatStartWould: certificate files (relative to the
// config file, whatever the working directory), addresses in use with
// -check-addresses, and a warning for a config without listeners.
func TestValidateCatchesWhatStartWould(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "tls"), 0o755)
	writeSelfSigned(t, filepath.Join(dir, "tls"))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := func(cert, addr string) string {
		return "listeners:\n  - name: l\n    address: " + addr + "\n    filter_chains:\n" +
			"      - tls: {certificate_file: " + cert + ", private_key_file: tls/key.pem}\n" +
			"        filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]\n" +
			"clusters: [{name: c, endpoints: [\"127.0.0.1:1\"]}]\n"
	}
	tests := []struct {
		name     string
		yaml     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"good", cfg("tls/cert.pem", busy.Addr().String()), nil, 0, ""},
		{"missing certificate", cfg("tls/missing.pem", "127.0.0.1:0"), nil, 1,
			"listeners[0].filter_chains[0].tls.certificate_file: " + filepath.Join(dir, "tls/missing.pem") + ": no such file or directory (line 5)"},
		{"key is not a certificate", cfg("tls/key.pem", "127.0.0.1:0"), nil, 1,
			"listeners[0].filter_chains[0].tls.certificate_file: with private_key_file: tls: failed to find certificate PEM data"},
		{"address in use", cfg("tls/cert.pem", busy.Addr().String()), []string{"-check-addresses"}, 1,
			"listeners[0].address: cannot bind " + busy.Addr().String() + ": bind: address already in use (line 3)"},
		{"free address", cfg("tls/cert.pem", "127.0.0.1:0"), []string{"-check-addresses"}, 0, ""},
		{"no listeners", "drain_timeout: 5s\n", nil, 0, "listeners: none; a running sluice refuses to reload to this config unless it sets allow_no_listeners: true"},
		{"semantic error line", "drain_timeout: 5s\nlisteners:\n  - name: x\n    filters: [{tcp_proxy: {stat_prefix: x, cluster: c}}]\n", nil, 1,
			`listeners[0].filters[0].tcp_proxy.cluster: no such cluster "c" (line 4)`},
	}
	t.Chdir(t.TempDir())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "sluice.yaml")
			os.WriteFile(file, []byte(tc.yaml), 0o644)
			var out, errb bytes.Buffer
			code := run(append([]string{"validate", "-c", file}, tc.args...), &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tc.wantCode, errb.String())
			}
			if tc.wantErr == "" && errb.Len() > 0 || !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("stderr:\n%s\nwant: %q", errb.String(), tc.wantErr)
			}
			if code == 0 && out.String() != file+": OK\n" {
				t.Fatalf("stdout %q", out.String())
			}
		})
	}
}

// TestStartErrorHasLine: what only a start finds (an address in use) is
// reported with file, path and line too.
func TestStartErrorHasLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	os.WriteFile(file, []byte("drain_timeout: 1s\nlisteners:\n  - name: l\n    address: "+busy.Addr().String()+
		"\n    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]\nclusters: [{name: c, endpoints: [\"127.0.0.1:1\"]}]\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"-c", file, "-log-level", "error"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := file + ": listeners[0].address: listen tcp " + busy.Addr().String() + ": bind: address already in use (line 4)\n"
	if errb.String() != want {
		t.Fatalf("stderr %q\nwant %q", errb.String(), want)
	}
}
