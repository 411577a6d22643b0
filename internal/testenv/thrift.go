package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// thriftDir is testdata/thrift: the IDL and the Python peer script.
func thriftDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "thrift")
}

// pythonBin is Debian's python3, where python3-thrift is installed (a
// python3 earlier in PATH, such as pyenv's, does not see dist-packages).
const pythonBin = "/usr/bin/python3"

var (
	pyGenOnce sync.Once
	pyGenDir  string
	pyGenErr  error
)

// ThriftPyGen generates the Python code of testdata/thrift/calc.thrift with
// Debian's thrift-compiler, once per IDL content (a directory under the
// temp dir named by its hash, shared by test binaries and runs), and
// returns its directory (holding gen-py/).
func ThriftPyGen(t testing.TB) string {
	t.Helper()
	pyGenOnce.Do(func() { pyGenDir, pyGenErr = genPy() })
	if pyGenErr != nil {
		t.Fatal(pyGenErr)
	}
	return pyGenDir
}

func genPy() (string, error) {
	thriftBin, err := lookBin("thrift", "thrift-compiler")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat("/usr/lib/python3/dist-packages/thrift/Thrift.py"); err != nil {
		return "", fmt.Errorf("testenv: python3-thrift missing: install the Debian package python3-thrift: %w", err)
	}
	idl := filepath.Join(thriftDir(), "calc.thrift")
	b, err := os.ReadFile(idl)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	dir := filepath.Join(os.TempDir(), "sluice-thrift-py-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "gen-py", "calc", "Calc.py")); err == nil {
		return dir, nil
	}
	// Generate aside and rename into place: test binaries of other
	// packages may be doing the same at this moment.
	tmp, err := os.MkdirTemp("", "sluice-thrift-py-gen-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "gen-py"), 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command(thriftBin, "--gen", "py", "-out", filepath.Join(tmp, "gen-py"), idl).CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: thrift --gen py: %v: %s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "gen-py", "calc", "Calc.py")); serr != nil {
			return "", fmt.Errorf("testenv: python thrift code: %w", err)
		}
	}
	return dir, nil
}

// ThriftPyServer is a Python Thrift server of the Calc service
// (testdata/thrift/calc_py.py on python3-thrift).
type ThriftPyServer struct {
	t    testing.TB
	Addr string
	p    *proc
	once sync.Once
}

// ThriftPy starts a Python Calc server named name, speaking transport and
// protocol (framed|unframed|header, binary|compact), on a free loopback
// port; it is killed at test end.
func ThriftPy(t testing.TB, name, transport, protocol string) *ThriftPyServer {
	t.Helper()
	gen := ThriftPyGen(t)
	log := filepath.Join(t.TempDir(), "thrift-py-"+name+".log")
	s := &ThriftPyServer{t: t}
	err := withFreePort(log, func(port int) error {
		p, err := startProc(procSpec{name: "calc_py.py", path: pythonBin, logPath: log,
			args: []string{filepath.Join(thriftDir(), "calc_py.py"), "server", gen, strconv.Itoa(port), name, transport, protocol}})
		if err != nil {
			return err
		}
		s.p, s.Addr = p, loopback(port)
		if err := p.waitReady(20*time.Second, func() error { return dialable(s.Addr) }); err != nil {
			p.kill()
			return fmt.Errorf("%v\n%s", err, p.tail(20))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: python thrift server: %v", err)
	}
	t.Cleanup(s.Kill)
	return s
}

// Kill ends the server with SIGKILL (its connections reset).
func (s *ThriftPyServer) Kill() { s.once.Do(s.p.kill) }

// Log returns the end of the server's output.
func (s *ThriftPyServer) Log() string { return s.p.tail(50) }

// ThriftPyClient runs the Python client's fixed series of calls against
// addr and returns its output (one line per answer).
func ThriftPyClient(t testing.TB, addr, transport, protocol, service string) (string, error) {
	t.Helper()
	gen := ThriftPyGen(t)
	args := []string{filepath.Join(thriftDir(), "calc_py.py"), "client", gen, addr, transport, protocol}
	if service != "" {
		args = append(args, service)
	}
	out, err := exec.Command(pythonBin, args...).CombinedOutput()
	return string(out), err
}
