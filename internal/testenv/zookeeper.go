package testenv

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// zkJar is Debian's ZooKeeper server jar; its manifest's Class-Path names the
// dependencies, so it is the whole class path.
const zkJar = "/usr/share/java/zookeeper.jar"

// slf4jSimple is Debian's SLF4J binding that logs to stderr (package
// libslf4j-java, a dependency of zookeeper); without it the server is mute.
const slf4jSimple = "/usr/share/java/slf4j-simple.jar"

// ZooKeeperServer is a standalone ZooKeeper with its own zoo.cfg and dataDir
// (or an external one). Methods fail, or for an external server skip, the
// test that obtained the handle.
type ZooKeeperServer struct {
	t      testing.TB
	c      *zkCore
	shared bool
}

// zkCore is the server itself, shared by the handles of SharedZooKeeper.
type zkCore struct {
	mu       sync.Mutex
	java     string
	jar      string
	dir      string
	host     string
	port     int
	p        *proc
	external bool
}

// ZooKeeper starts a standalone ZooKeeper on a free port (JVM start takes
// about a second), stopped at test end; or, when SLUICE_TEST_ZOOKEEPER_ADDR
// is set, returns a handle to that server.
func ZooKeeper(t testing.TB) *ZooKeeperServer {
	t.Helper()
	if c := externalZooKeeper(t); c != nil {
		return &ZooKeeperServer{t: t, c: c}
	}
	c, err := startZooKeeper(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: zookeeper %s log tail:\n%s", c.addr(), logTail(c.logPath(), 20))
		}
	})
	return &ZooKeeperServer{t: t, c: c}
}

// SharedZooKeeper returns the test binary's ZooKeeper, started on first use
// and stopped by Main (which TestMain must call); use distinct znode paths
// per test. Kill, Stop and Restart fail the test.
func SharedZooKeeper(t testing.TB) *ZooKeeperServer {
	t.Helper()
	if c := externalZooKeeper(t); c != nil {
		return &ZooKeeperServer{t: t, c: c, shared: true}
	}
	c := sharedServer(t, "zookeeper", func(o owner) (any, error) { return startZooKeeper(o) })
	return &ZooKeeperServer{t: t, c: c.(*zkCore), shared: true}
}

func externalZooKeeper(t testing.TB) *zkCore {
	t.Helper()
	addr := os.Getenv(EnvZooKeeperAddr)
	if addr == "" {
		return nil
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		t.Fatalf("testenv: %s=%q: %v", EnvZooKeeperAddr, addr, err)
	}
	return &zkCore{host: host, port: port, external: true}
}

// startZooKeeper writes zoo.cfg and starts the server; o stops it.
func startZooKeeper(o owner) (*zkCore, error) {
	java, err := lookBin("java", "default-jre-headless")
	if err != nil {
		return nil, err
	}
	jar := os.Getenv("SLUICE_TEST_ZOOKEEPER_JAR")
	if jar == "" {
		jar = zkJar
	}
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("testenv: %s missing: install the Debian package zookeeper (apt-get install -y zookeeper): %w", jar, err)
	}
	c := &zkCore{java: java, jar: jar, host: "127.0.0.1"}
	if c.dir, err = tempDir(o, "zookeeper"); err != nil {
		return nil, err
	}
	o.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.p != nil {
			c.p.kill()
		}
	})
	err = withFreePort(c.logPath(), func(port int) error {
		c.port = port
		if err := c.writeConfig(); err != nil {
			return err
		}
		return c.start()
	})
	return c, err
}

func (c *zkCore) addr() string    { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }
func (c *zkCore) logPath() string { return filepath.Join(c.dir, "zookeeper.log") }

// writeConfig writes a standalone zoo.cfg: no admin HTTP server (it would
// take port 8080), srvr for readiness.
func (c *zkCore) writeConfig() error {
	cfg := strings.Join([]string{
		"tickTime=500",
		"dataDir=" + filepath.Join(c.dir, "data"),
		"clientPort=" + strconv.Itoa(c.port),
		"clientPortAddress=127.0.0.1",
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=ruok,srvr,stat,mntr",
		"forceSync=no",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(c.dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("testenv: zoo.cfg: %w", err)
	}
	return nil
}

// start runs ZooKeeperServerMain (standalone, no quorum code) and waits
// until it serves.
func (c *zkCore) start() error {
	cp := c.jar
	if _, err := os.Stat(slf4jSimple); err == nil {
		cp += ":" + slf4jSimple // server log to stderr, hence to the log file
	}
	p, err := startProc(procSpec{
		name: "zookeeper", path: c.java, dir: c.dir, logPath: c.logPath(),
		args: []string{"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Dzookeeper.admin.enableServer=false",
			"-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(c.dir, "zoo.cfg")},
	})
	if err != nil {
		return err
	}
	c.p = p
	if err := p.waitReady(startTimeout, c.serving); err != nil {
		p.kill()
		c.p = nil
		return fmt.Errorf("testenv: zookeeper on %s: %w\nlog tail:\n%s", c.addr(), err, p.tail(30))
	}
	return nil
}

// serving sends srvr and expects "Mode: standalone". Not ruok: it answers
// imok as soon as the port is open, before the database is loaded and
// sessions are accepted.
func (c *zkCore) serving() error {
	out, err := c.fourLetter("srvr")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Mode: standalone") {
		return fmt.Errorf("srvr answered %q", firstLines(out, 1))
	}
	return nil
}

// fourLetter sends a four-letter-word command and returns the reply.
func (c *zkCore) fourLetter(cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", c.addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(conn, 1<<20))
	return string(b), err
}

// Addr returns host:port of the server.
func (s *ZooKeeperServer) Addr() string { return s.c.addr() }

// Port returns the server's client port.
func (s *ZooKeeperServer) Port() int { return s.c.port }

// FourLetter sends a four-letter word (ruok, srvr, stat, mntr) and returns
// the reply.
func (s *ZooKeeperServer) FourLetter(cmd string) (string, error) { return s.c.fourLetter(cmd) }

// Kill sends SIGKILL; sessions end without a close. Restart keeps dataDir.
func (s *ZooKeeperServer) Kill() { s.t.Helper(); s.life().kill() }

// Stop shuts the server down (SIGTERM).
func (s *ZooKeeperServer) Stop() { s.t.Helper(); s.life().stop() }

// Restart stops the server if it runs and starts it again on the same port
// and dataDir; znodes persist (ephemeral ones until their session expires).
func (s *ZooKeeperServer) Restart() { s.t.Helper(); s.life().restart() }

func (s *ZooKeeperServer) life() lifecycle {
	return lifecycle{t: s.t, shared: s.shared, kind: "ZooKeeperServer", ctor: "testenv.ZooKeeper(t)", env: EnvZooKeeperAddr, c: s.c}
}

func (c *zkCore) state() (*sync.Mutex, **proc, bool) { return &c.mu, &c.p, c.external }

// stop shuts ZooKeeper down; the caller holds c.mu.
func (c *zkCore) stop() error {
	if c.p == nil {
		return nil
	}
	err := c.p.stop(15 * time.Second)
	c.p = nil
	return err
}
