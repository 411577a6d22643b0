package accesslog

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func record() *Record {
	req, _ := http.NewRequest("POST", "http://svc.local/api/v1?x=1", nil)
	req.RequestURI = "/api/v1?x=1"
	req.Header.Set("User-Agent", "curl/7.88.1")
	req.Header.Set("X-Request-Id", "abc")
	return &Record{
		Start: time.Date(2026, 12, 7, 19, 0, 1, 234e6, time.UTC), Duration: 42 * time.Millisecond,
		Req: req, RespHeader: http.Header{"X-Envoy-Upstream-Service-Time": {"40"}}, Status: 201,
		Flags: "UT", BytesReceived: 10, BytesSent: 20, UpstreamHost: "10.0.0.1:80", Cluster: "svc",
		ReqDuration: -1, RespDuration: 5 * time.Millisecond,
	}
}

func TestDefaultFormat(t *testing.T) {
	f, err := Compile(DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	got := string(f.Append(nil, record()))
	want := `[2026-12-07T19:00:01.234Z] "POST /api/v1?x=1 HTTP/1.1" 201 UT 10 20 42 40 "-" "curl/7.88.1" "abc" "svc.local" "10.0.0.1:80"` + "\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestOperators(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"%REQ(USER-AGENT):4%", "curl"},
		{"%REQ(X-MISSING?X-REQUEST-ID)%", "abc"},
		{"%REQ(:AUTHORITY)% %REQ(:METHOD)%", "svc.local POST"},
		{"%RESP(X-NONE)%", "-"},
		{"%REQUEST_DURATION% %RESPONSE_DURATION%", "- 5"},
		{"%START_TIME(%Y/%m/%d %H:%M:%S.%3f)%", "2026/12/07 19:00:01.234"},
		{"100%% %UPSTREAM_CLUSTER%", "100% svc"},
		{"%PROTOCOL%", "HTTP/1.1"},
	} {
		f, err := Compile(tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if got := string(f.Append(nil, record())); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.format, got, tc.want)
		}
	}
}

func TestProtocolHTTP2(t *testing.T) {
	r := record()
	r.Req.Proto, r.Req.ProtoMajor, r.Req.ProtoMinor = "HTTP/2.0", 2, 0
	f, _ := Compile("%PROTOCOL%")
	if got := string(f.Append(nil, r)); got != "HTTP/2" {
		t.Fatalf("got %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, bad := range []string{"%NOPE%", "%REQ%", "%REQ()%", "%REQ(X):0%", "%REQ(X", "%DURATION"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	j, err := CompileJSON(map[string]string{"code": "%RESPONSE_CODE%", "ua": "%REQ(USER-AGENT)%",
		"none": "%RESP(X-NONE)%", "mixed": "took %DURATION% ms"})
	if err != nil {
		t.Fatal(err)
	}
	got := string(j.Append(nil, record()))
	want := `{"code":201,"mixed":"took 42 ms","none":null,"ua":"curl/7.88.1"}` + "\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// FuzzCompile: no format string panics the compiler or the formatter.
func FuzzCompile(f *testing.F) {
	f.Add(DefaultFormat)
	f.Add("%REQ(X?Y):3% %START_TIME(%s)% %%")
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := Compile(s)
		if err != nil {
			return
		}
		out := string(fm.Append(nil, record()))
		if strings.Count(s, "%") == 0 && out != s {
			t.Fatalf("literal %q formatted as %q", s, out)
		}
	})
}

// TestDynamicMetadata: %DYNAMIC_METADATA(NS:KEY:...)% prints strings raw,
// other values and whole namespaces as JSON, "-" when absent; the JSON
// format keeps the value's type.
func TestDynamicMetadata(t *testing.T) {
	r := record()
	r.Metadata = map[string]map[string]any{"envoy.lb": {"tier": "gold", "n": 3.5, "jwt": map[string]any{"sub": "alice"}}}
	for _, tc := range []struct{ format, want string }{
		{"%DYNAMIC_METADATA(envoy.lb:tier)%", "gold"},
		{"%DYNAMIC_METADATA(envoy.lb:n)%", "3.5"},
		{"%DYNAMIC_METADATA(envoy.lb:jwt:sub)%", "alice"},
		{"%DYNAMIC_METADATA(envoy.lb:jwt)%", `{"sub":"alice"}`},
		{"%DYNAMIC_METADATA(envoy.lb:missing)% %DYNAMIC_METADATA(other)%", "- -"},
		{"%DYNAMIC_METADATA(envoy.lb:tier):2%", "go"},
	} {
		f, err := Compile(tc.format)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if got := string(f.Append(nil, r)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.format, got, tc.want)
		}
	}
	j, err := CompileJSON(map[string]string{"n": "%DYNAMIC_METADATA(envoy.lb:n)%", "t": "%DYNAMIC_METADATA(envoy.lb:tier)%"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(j.Append(nil, r)); got != `{"n":3.5,"t":"gold"}`+"\n" {
		t.Fatalf("json: %s", got)
	}
	if _, err := Compile("%DYNAMIC_METADATA()%"); err == nil {
		t.Fatal("empty namespace accepted")
	}
}
