package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DynaliteVersion is the npm release of dynalite (a DynamoDB implementation
// on LevelDB, in memory here) the tests run.
const DynaliteVersion = "3.2.2"

// DynaliteServer is a dynalite serving DynamoDB's JSON API on a loopback port.
type DynaliteServer struct {
	port int
	p    *proc
}

// Addr is host:port.
func (d *DynaliteServer) Addr() string { return loopback(d.port) }

// Dynalite starts dynalite (installed once with npm into the user cache
// directory; needs Debian's nodejs and npm) with table operations taking
// effect at once, killed at test end.
func Dynalite(t testing.TB) *DynaliteServer {
	t.Helper()
	node, err := lookBin("node", "nodejs")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := installDynalite()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "dynalite")
	if err != nil {
		t.Fatal(err)
	}
	d := &DynaliteServer{}
	logPath := filepath.Join(dir, "dynalite.log")
	err = withFreePort(logPath, func(port int) error {
		d.port = port
		p, err := startProc(procSpec{name: "dynalite", path: node, dir: dir, logPath: logPath,
			args: []string{cli, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
				"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}})
		if err != nil {
			return err
		}
		if err := p.waitReady(startTimeout, func() error { return dialable(d.Addr()) }); err != nil {
			p.kill()
			return fmt.Errorf("testenv: dynalite on %s: %w\nlog tail:\n%s", d.Addr(), err, p.tail(20))
		}
		d.p = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.p.kill() })
	return d
}

// installDynalite returns dynalite's cli.js, running npm install into a
// versioned cache directory the first time (into a temporary directory
// renamed into place, so concurrent test binaries never see half an install).
func installDynalite() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "sluice-testenv", "dynalite-"+DynaliteVersion)
	cli := filepath.Join(dir, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err == nil {
		return cli, nil
	}
	npm, err := lookBin("npm", "npm")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", tmp, "dynalite@"+DynaliteVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: npm install dynalite@%s: %w\n%s", DynaliteVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(cli); statErr == nil {
			return cli, nil // another binary installed it meanwhile
		}
		return "", err
	}
	return cli, nil
}
