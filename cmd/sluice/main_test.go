package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listeners:\n  - name: x\n    address: nope\n    filters: [{tcp_proxy: {stat_prefix: x, cluster: none}}]\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "-c", bad}, &out, &errb); code != 1 {
		t.Fatalf("exit %d for a bad config", code)
	}
	for _, want := range []string{
		bad + `: listeners[0].address: invalid address "nope"`,
		bad + `: listeners[0].filters[0].tcp_proxy.cluster: no such cluster "none"`,
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	out.Reset()
	if code := run([]string{"validate", "-c", "../../examples/tcp.yaml"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d for the example: %s", code, errb.String())
	}
	if code := run([]string{"-concurrency", "-1", "-c", "x.yaml"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-concurrency") {
		t.Fatalf("-concurrency -1: exit %d, %q", code, errb.String())
	}
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "sluice ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

// TestExamplesValidate keeps every shipped example loadable.
func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		if code := run([]string{"validate", "-c", f}, &out, &errb); code != 0 {
			t.Errorf("%s: %s", f, errb.String())
		}
	}
}
