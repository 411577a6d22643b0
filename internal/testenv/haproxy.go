package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// HAProxyServer is a haproxy (Debian's haproxy, 2.6 in bookworm) run in the
// foreground with a test's config, for PROXY protocol peers: send-proxy-v2
// in front of sluice, accept-proxy behind it.
type HAProxyServer struct {
	p    *proc
	dir  string
	Port int // the frontend port, "%[1]d" in the config
}

// HAProxy starts haproxy with config, in which every "%[1]d" is replaced by
// a free port (the frontend the test dials), and waits until that port
// accepts. The config's global and defaults sections are the caller's.
func HAProxy(t testing.TB, config string) *HAProxyServer {
	t.Helper()
	bin, err := lookBin("haproxy", "haproxy", "/usr/sbin")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "haproxy")
	if err != nil {
		t.Fatal(err)
	}
	s := &HAProxyServer{dir: dir}
	logPath := filepath.Join(dir, "haproxy.log")
	err = withFreePort(logPath, func(port int) error {
		s.Port = port
		cfgPath := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(config, port)), 0o644); err != nil {
			return err
		}
		p, err := startProc(procSpec{name: "haproxy", path: bin, args: []string{"-db", "-f", cfgPath},
			dir: dir, logPath: logPath})
		if err != nil {
			return err
		}
		if err := p.waitReady(startTimeout, func() error { return dialable(s.Addr()) }); err != nil {
			p.kill()
			return fmt.Errorf("testenv: haproxy on %s: %w\nlog tail:\n%s", s.Addr(), err, p.tail(30))
		}
		s.p = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: haproxy log tail:\n%s", s.p.tail(30))
		}
		s.p.kill()
	})
	return s
}

// Addr is the frontend's loopback address.
func (s *HAProxyServer) Addr() string { return loopback(s.Port) }
