package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// NginxServer is an nginx (Debian's nginx, 1.22) on a free loopback port,
// stopped at test end.
type NginxServer struct {
	port int
	dir  string
	p    *proc
}

// Nginx starts nginx with serverBlock as the body of its one server {}
// block (listen is set). Logs go to the test's temp directory.
func Nginx(t testing.TB, serverBlock string) *NginxServer {
	t.Helper()
	bin, err := lookBin("nginx", "nginx", "/usr/sbin")
	if err != nil {
		t.Fatal(err)
	}
	n := &NginxServer{dir: t.TempDir()}
	log := filepath.Join(n.dir, "nginx.log")
	user := ""
	if os.Getuid() == 0 {
		user = "user root;" // workers must reach the temp directory
	}
	err = withFreePort(log, func(port int) error {
		n.port = port
		conf := fmt.Sprintf(`%s
worker_processes 1;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:%[3]d;
        %[4]s
    }
}
`, user, n.dir, port, serverBlock)
		path := filepath.Join(n.dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return err
		}
		p, err := startProc(procSpec{name: "nginx", path: bin, logPath: log,
			args: []string{"-p", n.dir, "-c", path, "-g", "daemon off;"}, stopSig: 3 /* SIGQUIT: graceful */})
		if err != nil {
			return err
		}
		n.p = p
		if err := p.waitReady(20*time.Second, func() error { return dialable(loopback(port)) }); err != nil {
			p.kill()
			return fmt.Errorf("testenv: nginx: %w\n%s\n%s", err, p.tail(20), logTail(filepath.Join(n.dir, "error.log"), 20))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.p.stop(10 * time.Second) })
	return n
}

// Addr returns host:port.
func (n *NginxServer) Addr() string { return loopback(n.port) }
