package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
)

// OPAServer is bench/opaauthz: an Envoy external authorization server
// (gRPC envoy.service.auth.v3 and Envoy's HTTP protocol) deciding with Open
// Policy Agent's Go API (v1.22.4) over one Rego policy.
type OPAServer struct {
	grpcPort, httpPort int
	p                  *proc
}

// GRPCAddr is host:port of the gRPC Authorization service.
func (s *OPAServer) GRPCAddr() string { return loopback(s.grpcPort) }

// HTTPAddr is host:port of the HTTP ext_authz service.
func (s *OPAServer) HTTPAddr() string { return loopback(s.httpPort) }

// OPAAuthz starts the server over the Rego policy text (query
// data.envoy.authz.allow; args are more flags, e.g. -http-prefix /authz),
// killed at test end. The binary is built once
// per source version into the user cache: it is its own Go module, so that
// OPA's dependencies stay out of sluice's go.mod.
func OPAAuthz(t testing.TB, policy string, args ...string) *OPAServer {
	t.Helper()
	bin, err := buildOPAAuthz()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "opaauthz")
	if err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(dir, "policy.rego")
	if err := os.WriteFile(pf, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &OPAServer{}
	logPath := filepath.Join(dir, "opaauthz.log")
	err = withFreePort(logPath, func(port int) error {
		hp, err := freePort()
		if err != nil {
			return err
		}
		s.grpcPort, s.httpPort = port, hp
		p, err := startProc(procSpec{name: "opaauthz", path: bin, dir: dir, logPath: logPath,
			args: append([]string{"-policy", pf, "-grpc", s.GRPCAddr(), "-http", s.HTTPAddr()}, args...)})
		if err != nil {
			return err
		}
		err = p.waitReady(startTimeout, func() error {
			if err := dialable(s.GRPCAddr()); err != nil {
				return err
			}
			return dialable(s.HTTPAddr())
		})
		if err != nil {
			p.kill()
			return fmt.Errorf("testenv: opaauthz on %s: %w\nlog tail:\n%s", s.GRPCAddr(), err, p.tail(20))
		}
		s.p = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.p.kill() })
	return s
}

var opaBuild struct {
	once sync.Once
	bin  string
	err  error
}

// buildOPAAuthz builds bench/opaauthz into the user cache, keyed by a hash
// of its sources (a changed policy server is rebuilt).
func buildOPAAuthz() (string, error) {
	opaBuild.once.Do(func() {
		_, here, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(here), "..", "..", "bench", "opaauthz")
		names, err := filepath.Glob(filepath.Join(src, "*"))
		if err != nil || len(names) == 0 {
			opaBuild.err = fmt.Errorf("testenv: no sources in %s", src)
			return
		}
		sort.Strings(names)
		h := sha256.New()
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				opaBuild.err = err
				return
			}
			fmt.Fprintf(h, "%s %d\n", filepath.Base(n), len(b))
			h.Write(b)
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		bin := filepath.Join(cache, "sluice-testenv", "opaauthz-"+hex.EncodeToString(h.Sum(nil))[:16], "opaauthz")
		if _, err := os.Stat(bin); err == nil {
			opaBuild.bin = bin
			return
		}
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			opaBuild.err = fmt.Errorf("testenv: building bench/opaauthz: %w\n%s", err, out)
			return
		}
		opaBuild.bin = bin
	})
	return opaBuild.bin, opaBuild.err
}
