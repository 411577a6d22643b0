package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// writeCert writes a self-signed certificate and its key into dir.
func writeCert(t *testing.T, dir, cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	os.WriteFile(filepath.Join(dir, cert), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, key), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

const tlsConfig = `listeners:
  - name: l
    address: 127.0.0.1:0
    access_log: {path: %LOG%}
    filter_chains:
      - tls:
          certificate_file: %CERT%
          private_key_file: certs/key.pem
          client_ca_file: certs/cert.pem
        filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["127.0.0.1:1"]}
`

// TestCheckFiles: relative paths resolve against the config file's
// directory (not the working directory), and what a listener build would
// refuse is reported with path and line.
func TestCheckFiles(t *testing.T) {
	tests := []struct {
		name    string
		cert    string // certificate_file as written
		log     string // access_log.path as written
		setup   func(dir string)
		wantErr string
	}{
		{"relative paths resolve", "certs/cert.pem", "logs/access.log", nil, ""},
		{"absolute paths", "%DIR%/certs/cert.pem", "/dev/stdout", nil, ""},
		{"missing certificate", "certs/nope.pem", "/dev/stdout", nil,
			`cfg.yaml: listeners[0].filter_chains[0].tls.certificate_file: %DIR%/certs/nope.pem: no such file or directory (line 7)`},
		{"garbage certificate", "certs/bad.pem", "/dev/stdout", func(dir string) { os.WriteFile(filepath.Join(dir, "certs/bad.pem"), []byte("junk"), 0o600) },
			`listeners[0].filter_chains[0].tls.certificate_file: with private_key_file: tls: failed to find any PEM data in certificate input (line 7)`},
		{"CA bundle without certificates", "certs/cert.pem", "/dev/stdout", func(dir string) { os.WriteFile(filepath.Join(dir, "certs/cert.pem"), []byte("junk"), 0o600) },
			`listeners[0].filter_chains[0].tls.client_ca_file: no PEM certificate in %DIR%/certs/cert.pem (line 9)`},
		{"access log directory missing", "certs/cert.pem", "nodir/access.log", nil,
			`listeners[0].access_log.path: no directory for %DIR%/nodir/access.log (line 4)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "certs"), 0o755)
			os.Mkdir(filepath.Join(dir, "logs"), 0o755)
			writeCert(t, filepath.Join(dir, "certs"), "cert.pem", "key.pem")
			if tc.setup != nil {
				tc.setup(dir)
			}
			src := strings.NewReplacer("%CERT%", strings.ReplaceAll(tc.cert, "%DIR%", dir), "%LOG%", tc.log).Replace(tlsConfig)
			file := filepath.Join(dir, "cfg.yaml")
			os.WriteFile(file, []byte(src), 0o644)
			t.Chdir(t.TempDir()) // relative paths must not depend on the working directory
			c, err := config.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckFiles()
			switch want := strings.ReplaceAll(tc.wantErr, "%DIR%", dir); {
			case want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
			if tc.wantErr == "" {
				tls := c.Listeners[0].FilterChains[0].TLS
				if tls.PrivateKeyFile != filepath.Join(dir, "certs/key.pem") {
					t.Errorf("private_key_file resolved to %q", tls.PrivateKeyFile)
				}
			}
		})
	}
}

// TestCheckAddresses: an address in use is reported with its line; port 0
// is skipped.
func TestCheckAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	src := "admin: {address: 127.0.0.1:0}\nlisteners:\n  - name: l\n    address: " + busy.Addr().String() +
		"\n    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]\nclusters: [{name: c, endpoints: [\"127.0.0.1:1\"]}]\n"
	c, err := config.Parse("a.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckAddresses()
	want := "a.yaml: listeners[0].address: cannot bind " + busy.Addr().String() + ": bind: address already in use (line 4)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	busy.Close()
	if err := c.CheckAddresses(); err != nil {
		t.Fatalf("after the address is free: %v", err)
	}
}

// TestLBConfigBlocks: a policy block decodes into the policy's registered
// type, shows in the config dump, and unknown fields list the blocks.
func TestLBConfigBlocks(t *testing.T) {
	tests := []struct {
		name, cluster string
		wantJSON      string // in the cluster's JSON
		wantErr       string
	}{
		{"ring_hash", `lb_policy: ring_hash, ring_hash_lb_config: {minimum_ring_size: 64}`,
			`"ring_hash_lb_config":{"minimum_ring_size":64,"maximum_ring_size":8388608,"hash_function":"XX_HASH","use_hostname_for_hashing":false}`, ""},
		{"least_request defaults", `lb_policy: least_request, least_request_lb_config: {}`, `"least_request_lb_config":{"choice_count":2,"active_request_bias":1}`, ""},
		{"no block", `lb_policy: maglev`, `"lb_policy":"maglev"`, ""},
		{"unknown field lists blocks", `lb_policy: maglev, maglev_config: {}`, "",
			`tls, least_request_lb_config, maglev_lb_config, ring_hash_lb_config) (line 1)`},
		{"bad field in block", `lb_policy: ring_hash, ring_hash_lb_config: {hash_function: MD5}`, "",
			`clusters[0].ring_hash_lb_config.hash_function: unknown "MD5"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse("lb.yaml", []byte(`clusters: [{name: c, endpoints: ["127.0.0.1:1"], `+tc.cluster+`}]`))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(c.Clusters[0])
			if !strings.Contains(string(b), tc.wantJSON) {
				t.Fatalf("JSON %s lacks %s", b, tc.wantJSON)
			}
		})
	}
}

// TestRegisterLBPolicyPanics: the registry refuses duplicates and
// incomplete entries loudly.
func TestRegisterLBPolicyPanics(t *testing.T) {
	noop := func(any, string, *config.Errors) {}
	tests := []struct {
		name string
		pt   config.LBPolicyType
	}{
		{"duplicate", config.LBPolicyType{Name: "round_robin"}},
		{"empty name", config.LBPolicyType{}},
		{"block without NewConfig", config.LBPolicyType{Name: "x1", ConfigField: "x1_lb_config", Validate: noop}},
		{"block without Validate", config.LBPolicyType{Name: "x2", ConfigField: "x2_lb_config", NewConfig: func() any { return &struct{}{} }}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			config.RegisterLBPolicy(tc.pt)
		})
	}
}

// TestConfigAt: an error that starts with a path of the config gets the
// file and the path's line; others pass through.
func TestConfigAt(t *testing.T) {
	c, err := config.Parse("at.yaml", []byte("drain_timeout: 1s\nlisteners:\n  - name: l\n    address: 127.0.0.1:0\n    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]\nclusters: [{name: c, endpoints: [\"127.0.0.1:1\"]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"listeners[0].address: bind: in use", "at.yaml: listeners[0].address: bind: in use (line 4)"},
		{"listeners[0].filters[0].tcp_proxy: build failed", "at.yaml: listeners[0].filters[0].tcp_proxy: build failed (line 5)"},
		{"listeners[3].address: x", "at.yaml: listeners[3].address: x (line 2)"}, // the nearest path read
		{"server is shut down", "server is shut down"},
		{"listen tcp 1.2.3.4:5: refused", "listen tcp 1.2.3.4:5: refused"},
	}
	for _, tc := range tests {
		if got := c.At(errors.New(tc.in)).Error(); got != tc.want {
			t.Errorf("At(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if c.At(nil) != nil {
		t.Error("At(nil) is not nil")
	}
}
