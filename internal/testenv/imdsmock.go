package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// AEMMVersion is the version of AWS's amazon-ec2-metadata-mock the tests
// build from the Go module proxy (kept out of sluice's go.mod: it brings
// cobra, viper and their trees).
const AEMMVersion = "v1.13.0"

// IMDSCredentials are the instance-profile credentials the mock serves.
type IMDSCredentials struct {
	Role, AccessKeyID, SecretAccessKey, Token string
	// Expiration is RFC 3339.
	Expiration string
}

// IMDSServer is amazon-ec2-metadata-mock serving EC2 instance metadata,
// IMDSv2 only (a PUT /latest/api/token session first).
type IMDSServer struct {
	port int
	p    *proc
}

// Endpoint is the base URL (AWS_EC2_METADATA_SERVICE_ENDPOINT).
func (s *IMDSServer) Endpoint() string { return "http://" + loopback(s.port) }

// Stop kills the mock (an instance whose metadata service went away).
func (s *IMDSServer) Stop() { s.p.kill() }

// IMDSMock starts the mock serving creds for creds.Role, killed at test end.
func IMDSMock(t testing.TB, creds IMDSCredentials) *IMDSServer {
	t.Helper()
	bin, err := buildAEMM()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := tempDir(t, "aemm")
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"metadata": map[string]any{"values": map[string]any{
		"iam-security-credentials-role": creds.Role,
		"iam-security-credentials": map[string]string{
			"code": "Success", "type": "AWS-HMAC", "lastupdated": "2026-01-01T00:00:00Z",
			"accesskeyid": creds.AccessKeyID, "secretaccesskey": creds.SecretAccessKey,
			"token": creds.Token, "expiration": creds.Expiration,
		},
	}}}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "aemm-config.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &IMDSServer{}
	logPath := filepath.Join(dir, "aemm.log")
	err = withFreePort(logPath, func(port int) error {
		s.port = port
		p, err := startProc(procSpec{name: "ec2-metadata-mock", path: bin, dir: dir, logPath: logPath,
			env:  []string{"HOME=" + dir},
			args: []string{"--hostname", "127.0.0.1", "--port", fmt.Sprint(port), "--imdsv2", "--config-file", cfgPath}})
		if err != nil {
			return err
		}
		if err := p.waitReady(startTimeout, func() error { return dialable(loopback(port)) }); err != nil {
			p.kill()
			return fmt.Errorf("testenv: ec2-metadata-mock on %d: %w\nlog tail:\n%s", port, err, p.tail(20))
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

func buildAEMM() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "sluice-testenv", "ec2-metadata-mock-"+AEMMVersion)
	bin := filepath.Join(dir, "ec2-metadata-mock")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@"+AEMMVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: building ec2-metadata-mock: %w\n%s", err, out)
	}
	return bin, nil
}
