package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RIEVersion is the module version of AWS's Lambda Runtime Interface
// Emulator the tests build from the Go module proxy (it has no tags).
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// RIEServer is AWS's Lambda Runtime Interface Emulator running one function.
type RIEServer struct {
	port int
	p    *proc
}

// Addr is host:port of the emulator's invoke API
// (POST /2015-03-31/functions/function/invocations).
func (s *RIEServer) Addr() string { return loopback(s.port) }

// LambdaRIE starts the emulator (built once into the user cache with go
// install) running the function binary fn, killed at test end.
func LambdaRIE(t testing.TB, fn string) *RIEServer {
	t.Helper()
	rie, err := buildRIE()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "rie")
	if err != nil {
		t.Fatal(err)
	}
	s := &RIEServer{}
	logPath := filepath.Join(dir, "rie.log")
	err = withFreePort(logPath, func(port int) error {
		apiPort, err := freePort()
		if err != nil {
			return err
		}
		s.port = port
		p, err := startProc(procSpec{name: "aws-lambda-rie", path: rie, dir: dir, logPath: logPath,
			args: []string{"--runtime-interface-emulator-address", loopback(port), "--runtime-api-address", loopback(apiPort), fn}})
		if err != nil {
			return err
		}
		if err := p.waitReady(startTimeout, func() error { return dialable(s.Addr()) }); err != nil {
			p.kill()
			return fmt.Errorf("testenv: aws-lambda-rie on %s: %w\nlog tail:\n%s", s.Addr(), err, p.tail(20))
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

func buildRIE() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "sluice-testenv", "rie-"+RIEVersion)
	bin := filepath.Join(dir, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@"+RIEVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: building aws-lambda-rie: %w\n%s", err, out)
	}
	return bin, nil
}
