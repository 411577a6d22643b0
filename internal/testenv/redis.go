package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server started for one test, or an external one.
// Its methods fail (or skip) the test that created it.
type RedisServer struct {
	t        testing.TB
	mu       sync.Mutex
	cfg      redisConfig
	bin, cli string
	dir      string
	port     int
	host     string
	p        *proc  // nil when external or stopped
	external string // the env var naming an external server
}

type redisConfig struct {
	password string
	cluster  bool
	args     []string
	tls      *RedisTLSFiles
}

// RedisTLSFiles are the PEM files of a TLS-only redis-server.
type RedisTLSFiles struct {
	// Cert and Key are the server's pair; it is also the harness's own
	// client certificate, so issue it for both uses (testenv.CA does).
	Cert, Key string
	// CA verifies client certificates (tls-auth-clients yes).
	CA string
}

// RedisTLS makes the server speak TLS only (Debian's redis-server is built
// with it): --port 0, --tls-port on the chosen port, client certificates
// required and checked against f.CA.
func RedisTLS(f RedisTLSFiles) RedisOption { return func(c *redisConfig) { c.tls = &f } }

// RedisOption configures Redis.
type RedisOption func(*redisConfig)

// RedisPassword sets requirepass; clients must AUTH with it.
func RedisPassword(pw string) RedisOption { return func(c *redisConfig) { c.password = pw } }

// RedisClusterEnabled starts the server with cluster-enabled yes and a
// nodes.conf in its dir (RedisCluster joins such servers).
func RedisClusterEnabled() RedisOption { return func(c *redisConfig) { c.cluster = true } }

// RedisArgs appends raw redis-server arguments, e.g. "--maxmemory", "1mb".
func RedisArgs(args ...string) RedisOption {
	return func(c *redisConfig) { c.args = append(c.args, args...) }
}

// Redis starts a fresh redis-server on a free loopback port with no
// persistence, stopped at test end; or, when SLUICE_TEST_REDIS_ADDR is set
// and no option asks for a private server, returns a handle to that server.
func Redis(t testing.TB, opts ...RedisOption) *RedisServer {
	t.Helper()
	var cfg redisConfig
	for _, o := range opts {
		o(&cfg)
	}
	if ext := os.Getenv(EnvRedisAddr); ext != "" && len(opts) == 0 {
		host, port, err := splitHostPort(ext)
		if err != nil {
			t.Fatalf("testenv: %s=%q: %v", EnvRedisAddr, ext, err)
		}
		cli, _ := exec.LookPath("redis-cli")
		return &RedisServer{t: t, host: host, port: port, cli: cli, external: EnvRedisAddr}
	}
	s, err := startRedis(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startRedis starts a server owned by t, retrying on a new port when the
// chosen one was taken meanwhile.
func startRedis(t testing.TB, cfg redisConfig) (*RedisServer, error) {
	bin, err := lookBin("redis-server", "redis-server")
	if err != nil {
		return nil, err
	}
	cli, err := lookBin("redis-cli", "redis-tools")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir(t, "redis")
	if err != nil {
		return nil, err
	}
	s := &RedisServer{t: t, cfg: cfg, bin: bin, cli: cli, dir: dir, host: "127.0.0.1"}
	t.Cleanup(s.cleanup)
	err = withFreePort(s.logPath(), func(port int) error {
		s.port = port
		return s.start()
	})
	return s, err
}

// start runs redis-server on s.port and waits for PING.
func (s *RedisServer) start() error {
	args := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--logfile", "", "--protected-mode", "no",
	}
	if s.cfg.password != "" {
		args = append(args, "--requirepass", s.cfg.password)
	}
	if f := s.cfg.tls; f != nil {
		args[1] = "0"
		args = append(args, "--tls-port", strconv.Itoa(s.port), "--tls-cert-file", f.Cert, "--tls-key-file", f.Key,
			"--tls-ca-cert-file", f.CA, "--tls-auth-clients", "yes")
	}
	if s.cfg.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		if s.cfg.password != "" {
			args = append(args, "--masterauth", s.cfg.password)
		}
	}
	args = append(args, s.cfg.args...)
	p, err := startProc(procSpec{
		name: "redis-server", path: s.bin, args: args, dir: s.dir,
		logPath: s.logPath(),
	})
	if err != nil {
		return err
	}
	s.p = p
	if err := p.waitReady(startTimeout, s.ping); err != nil {
		p.kill()
		s.p = nil
		return fmt.Errorf("testenv: redis-server on %s: %w\nlog tail:\n%s", s.Addr(), err, p.tail(30))
	}
	return nil
}

// logPath is where the server's output goes.
func (s *RedisServer) logPath() string { return filepath.Join(s.dir, "redis.log") }

func (s *RedisServer) cleanup() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return
	}
	if s.t.Failed() {
		s.t.Logf("testenv: redis-server %s log tail:\n%s", s.Addr(), s.p.tail(20))
	}
	s.p.kill() // nothing to save: no persistence
}

// ping sends PING (after AUTH when a password is set).
func (s *RedisServer) ping() error {
	_, err := s.do("PING")
	return err
}

// do runs one command on a fresh connection.
func (s *RedisServer) do(args ...any) (any, error) {
	opt := &redis.Options{
		Addr: s.Addr(), Password: s.cfg.password, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: 10 * time.Second, PoolSize: 1,
		Protocol: 2, DisableIdentity: true,
	}
	if s.cfg.tls != nil {
		tc, err := s.TLSClientConfig()
		if err != nil {
			return nil, err
		}
		opt.TLSConfig = tc
	}
	c := redis.NewClient(opt)
	defer c.Close()
	return c.Do(context.Background(), args...).Result()
}

// TLSClientConfig is a client config for a RedisTLS server: it trusts the
// CA and presents the server's own pair as client certificate.
func (s *RedisServer) TLSClientConfig() (*tls.Config, error) {
	f := s.cfg.tls
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, ServerName: "localhost"}, nil
}

// Addr returns host:port of the server.
func (s *RedisServer) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Port returns the server's TCP port.
func (s *RedisServer) Port() int { return s.port }

// Password returns the requirepass set with RedisPassword, or "".
func (s *RedisServer) Password() string { return s.cfg.password }

// Dir returns the server's working directory ("" when external).
func (s *RedisServer) Dir() string { return s.dir }

// Kill sends SIGKILL and waits for the process to exit: connections reset,
// the port refuses.
func (s *RedisServer) Kill() {
	s.t.Helper()
	if s.external != "" {
		skipExternal(s.t, "RedisServer.Kill", s.external)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		s.p.kill()
		s.p = nil
	}
}

// Stop shuts the server down gracefully (SIGTERM).
func (s *RedisServer) Stop() {
	s.t.Helper()
	if s.external != "" {
		skipExternal(s.t, "RedisServer.Stop", s.external)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		if err := s.p.stop(10 * time.Second); err != nil {
			s.t.Error(err)
		}
		s.p = nil
	}
}

// Restart stops the server if it runs and starts it again on the same port
// and dir; without persistence the data set starts empty.
func (s *RedisServer) Restart() {
	s.t.Helper()
	if s.external != "" {
		skipExternal(s.t, "RedisServer.Restart", s.external)
	}
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// CLI runs redis-cli against the server with args and returns its output
// without the trailing newline.
func (s *RedisServer) CLI(args ...string) (string, error) {
	if s.cli == "" {
		return "", fmt.Errorf("testenv: redis-cli not found: install the Debian package redis-tools")
	}
	base := []string{"-h", s.host, "-p", strconv.Itoa(s.port)}
	if s.cfg.password != "" {
		base = append(base, "-a", s.cfg.password, "--no-auth-warning")
	}
	return runOutput(exec.Command(s.cli, append(base, args...)...))
}

// runOutput runs cmd and returns its trimmed stdout; a failure carries stderr.
func runOutput(cmd *exec.Cmd) (string, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := strings.TrimRight(string(out), "\n")
	if err != nil {
		return res, fmt.Errorf("%s: %w: %s%s", filepath.Base(cmd.Path), err, stderr.String(), res)
	}
	return res, nil
}

// splitHostPort parses host:port with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", ps, err)
	}
	return host, port, nil
}
