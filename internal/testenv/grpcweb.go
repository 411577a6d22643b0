package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GrpcWebVersion is the npm release of grpc-web (the gRPC-Web JavaScript
// client runtime of grpc/grpc-web) that the browser tests load.
const GrpcWebVersion = "2.1.1"

// GrpcWebJS returns the path of grpc-web's ES module build (index.esm.js),
// installed once with npm into the user cache directory (needs npm; the
// module runs in the browser, not in node).
func GrpcWebJS(t testing.TB) string {
	t.Helper()
	dir, err := installNpm("grpc-web", GrpcWebVersion)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "node_modules", "grpc-web", "index.esm.js")
}

// installNpm installs name@version into a versioned cache directory the
// first time (into a temporary directory renamed into place, so concurrent
// test binaries never see half an install) and returns that directory.
func installNpm(name, version string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "sluice-testenv", name+"-"+version)
	pkg := filepath.Join(dir, "node_modules", name, "package.json")
	if _, err := os.Stat(pkg); err == nil {
		return dir, nil
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
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", tmp, name+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: npm install %s@%s: %w\n%s", name, version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(pkg); statErr == nil {
			return dir, nil // another binary installed it meanwhile
		}
		return "", err
	}
	return dir, nil
}
