package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one supervised server process. Its output goes to logPath; it runs
// in its own process group so that Kill also reaches the workers a server
// forks (postgres backends), and it dies with the test binary (Pdeathsig).
type proc struct {
	name    string
	logPath string
	stopSig syscall.Signal
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been waited for
	err     error         // exit status, valid after done
}

// procSpec says how to start a process.
type procSpec struct {
	name    string // for messages: "redis-server"
	path    string
	args    []string
	dir     string
	env     []string // appended to os.Environ()
	logPath string
	stopSig syscall.Signal      // graceful stop; SIGTERM when zero
	cred    *syscall.Credential // run as this user (postgres as root)
}

// startProc starts spec and returns once the process runs (not once it
// serves: callers poll for readiness).
func startProc(spec procSpec) (*proc, error) {
	logf, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: %s log: %w", spec.name, err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir = spec.dir
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
		Credential: spec.cred,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: starting %s: %w", spec.name, err)
	}
	sig := spec.stopSig
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	p := &proc{name: spec.name, logPath: spec.logPath, stopSig: sig, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the whole process group and waits until the leader
// and its workers are gone.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.waitGroupGone()
}

// waitGroupGone waits until no live process is left in the group: a
// postgres backend still attached to shared memory would make a restarted
// postmaster refuse to start. Zombies count as gone (in a container, pid 1
// may never reap the orphans).
func (p *proc) waitGroupGone() {
	pgid := p.cmd.Process.Pid
	poll.Until(10*time.Second, func() bool { return !groupAlive(pgid) })
}

// groupAlive reports whether a non-zombie process with process group pgid
// exists, from /proc/<pid>/stat.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) >= 3 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

// stop asks the process to shut down, and kills its group if it has not
// exited within grace.
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(p.stopSig)
	select {
	case <-p.done:
		// End workers a clean shutdown may leave behind.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.waitGroupGone()
		return nil
	case <-time.After(grace):
		p.kill()
		return fmt.Errorf("testenv: %s did not stop within %v; killed", p.name, grace)
	}
}

// tail returns the last n lines of the process log, for failure messages.
func (p *proc) tail(n int) string {
	return logTail(p.logPath, n)
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// errExited is returned by readiness waits when the process died first.
var errExited = errors.New("process exited")

// waitReady polls ready until it returns nil, the process exits or timeout
// passes; the error says which, with the last ready error.
func (p *proc) waitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	backoff := 5 * time.Millisecond
	var last error
	for {
		if last = ready(); last == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%w (%v): %v", errExited, p.err, last)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", timeout, last)
		}
		select {
		case <-p.done:
		case <-time.After(backoff):
		}
		if backoff < 100*time.Millisecond {
			backoff *= 2
		}
	}
}
