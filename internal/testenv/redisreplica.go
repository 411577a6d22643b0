package testenv

import (
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// RedisReplica starts a private redis-server replicating master
// (--replicaof) and waits until the master lists it as an online replica
// (so WAIT on the master can count it). It is stopped at test end.
func RedisReplica(t testing.TB, master *RedisServer, opts ...RedisOption) *RedisServer {
	t.Helper()
	cfg := redisConfig{password: master.cfg.password}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.args = append(cfg.args, "--replicaof", master.host, strconv.Itoa(master.port))
	if cfg.password != "" {
		cfg.args = append(cfg.args, "--masterauth", cfg.password)
	}
	s, err := startRedis(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "port=" + strconv.Itoa(s.port) + ",state=online"
	var last string
	ok := poll.Until(startTimeout, func() bool {
		last, _ = master.CLI("INFO", "replication")
		return strings.Contains(last, want)
	})
	if !ok {
		t.Fatalf("testenv: replica %s not online at %s:\n%s", s.Addr(), master.Addr(), last)
	}
	return s
}

// InfoField returns one field of INFO section (e.g. "replication",
// "master_repl_offset").
func (s *RedisServer) InfoField(section, field string) (string, error) {
	out, err := s.CLI("INFO", section)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("testenv: INFO %s on %s has no %s", section, s.Addr(), field)
}

// ReplOffset returns INFO replication master_repl_offset.
func (s *RedisServer) ReplOffset() (int64, error) {
	v, err := s.InfoField("replication", "master_repl_offset")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// Pause stops the server with SIGSTOP: connections stay open and nothing
// is answered (a replica stops acknowledging) until Resume. The process is
// resumed at test end before it is killed.
func (s *RedisServer) Pause() {
	s.t.Helper()
	s.signal("Pause", syscall.SIGSTOP)
	s.t.Cleanup(func() { s.signal("Resume", syscall.SIGCONT) })
}

// Resume continues a server stopped by Pause.
func (s *RedisServer) Resume() {
	s.t.Helper()
	s.signal("Resume", syscall.SIGCONT)
}

func (s *RedisServer) signal(what string, sig syscall.Signal) {
	if s.external != "" {
		skipExternal(s.t, "RedisServer."+what, s.external)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return
	}
	if err := s.p.cmd.Process.Signal(sig); err != nil {
		s.t.Errorf("testenv: %s %s: %v", what, s.Addr(), err)
	}
}
