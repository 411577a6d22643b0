package testenv

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// OtelColVersion is the OpenTelemetry Collector release the tracing tests
// build (core v0.165.0 / v1.71.0, contrib's file exporter at the same
// release). Jaeger v1.75.0 (cmd/jaeger) was the first choice; cold builds
// measured on the shared 2-core machine (load ~30 from other builds):
// Jaeger 31 min wall, 467 s of CPU, 1.3 GB of modules, 2.4 GB peak RSS;
// this collector 17 min wall, 167 s of CPU, 0.5 GB of modules. On a quiet
// 2-core CI machine that is about 4 min against 1.5 min, so the tests use
// the collector: OTLP in, every span written as OTLP JSON, read back.
const OtelColVersion = "v0.165.0"

// The collector's module; go.mod and go.sum carry a .txt suffix because
// a go.mod would make the folder a module of its own, which embed refuses.
//
//go:embed testdata/otelcol/main.go testdata/otelcol/go.mod.txt testdata/otelcol/go.sum.txt
var otelColSrc embed.FS

// OtelCol is a running collector: OTLP/gRPC and OTLP/HTTP in, spans out to
// a JSON lines file.
type OtelCol struct {
	grpcPort, httpPort int
	out                string
	p                  *proc
}

// GRPCAddr is host:port of the OTLP/gRPC receiver.
func (c *OtelCol) GRPCAddr() string { return loopback(c.grpcPort) }

// HTTPAddr is host:port of the OTLP/HTTP receiver (POST /v1/traces).
func (c *OtelCol) HTTPAddr() string { return loopback(c.httpPort) }

// StartOtelCol builds the collector once into the user cache (a module of
// its own: sluice's go.mod never carries it) and starts one for this test.
func StartOtelCol(t testing.TB) *OtelCol {
	t.Helper()
	bin, err := buildOtelCol()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &OtelCol{out: filepath.Join(dir, "spans.json")}
	logPath := filepath.Join(dir, "otelcol.log")
	err = withFreePort(logPath, func(port int) error {
		hp, err := freePort()
		if err != nil {
			return err
		}
		c.grpcPort, c.httpPort = port, hp
		cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc: {endpoint: %q}
      http: {endpoint: %q}
exporters:
  file:
    path: %q
    format: json
    flush_interval: 100ms
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
`, c.GRPCAddr(), c.HTTPAddr(), c.out)
		cfgPath := filepath.Join(dir, "otelcol.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return err
		}
		p, err := startProc(procSpec{name: "otelcol", path: bin, dir: dir, logPath: logPath, args: []string{"--config", "file:" + cfgPath}})
		if err != nil {
			return err
		}
		ready := func() error {
			if err := dialable(c.GRPCAddr()); err != nil {
				return err
			}
			return dialable(c.HTTPAddr())
		}
		if err := p.waitReady(startTimeout, ready); err != nil {
			p.kill()
			return fmt.Errorf("testenv: otelcol on %s: %w\nlog tail:\n%s", c.GRPCAddr(), err, p.tail(20))
		}
		c.p = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.p.kill() })
	return c
}

// buildOtelCol builds the collector into the user cache once.
func buildOtelCol() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.New()
	for _, f := range []string{"main.go", "go.mod.txt", "go.sum.txt"} {
		b, _ := otelColSrc.ReadFile("testdata/otelcol/" + f)
		sum.Write(b)
	}
	// The folder names the sources' hash: an edit to them builds anew.
	dir := filepath.Join(cache, "sluice-testenv", fmt.Sprintf("otelcol-%s-%x", OtelColVersion, sum.Sum(nil)[:4]))
	bin := filepath.Join(dir, "otelcol-test")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	// Test binaries of several packages start at once (go test ./...):
	// one builds, the others wait for it and use its binary.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	for _, f := range []string{"main.go", "go.mod", "go.sum"} {
		name := f
		if f != "main.go" {
			name += ".txt"
		}
		b, err := otelColSrc.ReadFile("testdata/otelcol/" + name)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			return "", err
		}
	}
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin+".tmp", ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: building otelcol: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "testenv: built otelcol %s in %s\n", OtelColVersion, time.Since(start).Round(time.Second))
	return bin, os.Rename(bin+".tmp", bin)
}

// Span is one span the collector received.
type Span struct {
	Service      string
	TraceID      string
	SpanID       string
	ParentSpanID string
	Name         string
	Kind         int // OTLP: 2 server, 3 client
	Attrs        map[string]string
	Events       []string // event names, in order
}

// Spans returns every span the collector has written so far.
func (c *OtelCol) Spans() ([]Span, error) {
	b, err := os.ReadFile(c.out)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Span
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var doc otlpDoc
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			continue // a line being written
		}
		for _, rs := range doc.ResourceSpans {
			svc := rs.Resource.Attributes.m()["service.name"]
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					sp := Span{Service: svc, TraceID: s.TraceID, SpanID: s.SpanID,
						ParentSpanID: s.ParentSpanID, Name: s.Name, Kind: s.Kind, Attrs: s.Attributes.m()}
					for _, e := range s.Events {
						sp.Events = append(sp.Events, e.Name)
					}
					out = append(out, sp)
				}
			}
		}
	}
	return out, sc.Err()
}

// otlpDoc is the OTLP JSON the file exporter writes, one per line.
type otlpDoc struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes otlpAttrs `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []struct {
			Spans []struct {
				TraceID      string    `json:"traceId"`
				SpanID       string    `json:"spanId"`
				ParentSpanID string    `json:"parentSpanId"`
				Name         string    `json:"name"`
				Kind         int       `json:"kind"`
				Attributes   otlpAttrs `json:"attributes"`
				Events       []struct {
					Name string `json:"name"`
				} `json:"events"`
			} `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

type otlpAttrs []struct {
	Key   string `json:"key"`
	Value struct {
		S *string          `json:"stringValue"`
		I *json.RawMessage `json:"intValue"`
		B *bool            `json:"boolValue"`
	} `json:"value"`
}

// m flattens the attributes to strings (ints and bools formatted).
func (a otlpAttrs) m() map[string]string {
	out := make(map[string]string, len(a))
	for _, kv := range a {
		switch {
		case kv.Value.S != nil:
			out[kv.Key] = *kv.Value.S
		case kv.Value.I != nil:
			s, err := strconv.Unquote(string(*kv.Value.I))
			if err != nil {
				s = string(*kv.Value.I)
			}
			out[kv.Key] = s
		case kv.Value.B != nil:
			out[kv.Key] = strconv.FormatBool(*kv.Value.B)
		}
	}
	return out
}
