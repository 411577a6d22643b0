package testenv

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NginxServer is an nginx (Debian's nginx 1.22) serving HTTP on a free
// loopback port, as an upstream for the HTTP proxy's tests.
type NginxServer struct {
	dir  string
	port int
	p    *proc
}

// Nginx starts nginx in the foreground with its own config, pid file, logs
// and temp directories, stopped at test end. locations is the body of the
// server block (nginx syntax), e.g. `location / { return 200 "hi"; }`; the
// server also answers GET /__ready with 204, which readiness polls.
func Nginx(t testing.TB, locations string) *NginxServer {
	t.Helper()
	bin, err := lookBin("nginx", "nginx", "/usr/sbin")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "nginx")
	if err != nil {
		t.Fatal(err)
	}
	n := &NginxServer{dir: dir}
	logPath := filepath.Join(dir, "nginx.log")
	err = withFreePort(logPath, func(port int) error {
		n.port = port
		if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(n.config(locations)), 0o644); err != nil {
			return fmt.Errorf("testenv: nginx.conf: %w", err)
		}
		p, err := startProc(procSpec{name: "nginx", path: bin, dir: dir, logPath: logPath, stopSig: 3, // SIGQUIT: graceful
			args: []string{"-e", logPath, "-p", dir, "-c", filepath.Join(dir, "nginx.conf")}})
		if err != nil {
			return err
		}
		if err := p.waitReady(startTimeout, n.ready); err != nil {
			p.kill()
			return fmt.Errorf("testenv: nginx on %s: %w\nlog tail:\n%s", n.Addr(), err, p.tail(20))
		}
		n.p = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.p.kill() })
	return n
}

// config writes a one-worker foreground nginx whose every path stays in dir
// (it runs as root in CI: user root keeps the worker able to read them).
func (n *NginxServer) config(locations string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	d := n.dir
	return strings.Join([]string{
		user, "daemon off;", "worker_processes 1;", "pid " + d + "/nginx.pid;", "error_log " + d + "/nginx.log warn;",
		"events { worker_connections 1024; }",
		"http {",
		"  access_log " + d + "/access.log;",
		"  client_body_temp_path " + d + "/body; proxy_temp_path " + d + "/proxy; fastcgi_temp_path " + d + "/fcgi;",
		"  uwsgi_temp_path " + d + "/uwsgi; scgi_temp_path " + d + "/scgi;",
		fmt.Sprintf("  server { listen 127.0.0.1:%d; location = /__ready { return 204; } %s }", n.port, locations),
		"}",
	}, "\n") + "\n"
}

func (n *NginxServer) ready() error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + n.Addr() + "/__ready")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("readiness answered %d", resp.StatusCode)
	}
	return nil
}

// Addr returns host:port of the server.
func (n *NginxServer) Addr() string { return loopback(n.port) }

// AccessLog returns nginx's access log so far (one line per request).
func (n *NginxServer) AccessLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "access.log"))
	return string(b)
}
