package awslambda

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// FuzzUnwrap: any function answer, as envelope or error payload, is turned
// into a response or refused without panicking. Seeds: what the echo
// function (internal/echofn) returns under the emulator.
func FuzzUnwrap(f *testing.F) {
	f.Add([]byte(`{"status_code":201,"headers":{"content-type":"application/octet-stream","x-fn":"yes"},"cookies":["a=1","b=2"],"body":"eyJ4IjoxfQ==","is_base64_encoded":true}`))
	f.Add([]byte(`{"errorMessage":"function failed on purpose","errorType":"errorString"}`))
	f.Add([]byte(`{"echo":{"k":"v"},"size":9}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		w := httptest.NewRecorder()
		if err := unwrap(w, payload); err == nil && (w.Code < 100 || w.Code > 599) {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// FuzzWrap: any request body and content type is enveloped as valid JSON.
func FuzzWrap(f *testing.F) {
	f.Add("/items/7?a=1&a=2", "text/plain", []byte("some text"))
	f.Add("/upload", "application/octet-stream", []byte("\x00\x01binary"))
	f.Fuzz(func(t *testing.T, target, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/", nil)
		if u, err := r.URL.Parse(target); err == nil {
			r.URL = u
		}
		r.Header.Set("Content-Type", ct)
		if _, err := wrap(r, body); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzFilter: a client request (seeded with curl's own requests as they
// reached a socket, testdata/curl-*.http) and any answer from Lambda
// (seeded with the echo function's under the emulator) go through the
// whole handler, envelope and passthrough, without panicking or leaving
// a status outside HTTP's range; Lambda's own errors pass unchanged.
func FuzzFilter(f *testing.F) {
	answers := [][]byte{
		[]byte(`{"status_code":201,"headers":{"content-type":"application/octet-stream","x-fn":"yes"},"cookies":["a=1","b=2"],"body":"eyJ4IjoxfQ==","is_base64_encoded":true}`),
		[]byte(`{"errorMessage":"function failed on purpose","errorType":"errorString"}`),
		[]byte(`{"echo":{"k":"v"},"size":9}`),
	}
	for _, name := range []string{"testdata/curl-envelope.http", "testdata/curl-passthrough.http"} {
		req, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i, a := range answers {
			f.Add(req, a, uint16(200), i == 1, i == 2)
		}
		f.Add(req, []byte(`{"Type":"User","message":"Function not found"}`), uint16(404), false, false)
	}
	fac, _ := httpfilter.Lookup(Name)
	build := func(passthrough bool) httpfilter.Filter {
		flt, err := fac.Build(&Config{Arn: "arn:aws:lambda:us-east-1:123456789012:function:f", PayloadPassthrough: passthrough,
			InvocationMode: "SYNCHRONOUS", Credentials: &Credentials{AccessKeyID: "AKIDFUZZ", SecretAccessKey: "fuzz"}}, nil)
		if err != nil {
			f.Fatal(err)
		}
		return flt
	}
	envelope, passthrough := build(false), build(true)
	f.Fuzz(func(t *testing.T, raw, answer []byte, status uint16, fnErr, pass bool) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		code := 100 + int(status)%900
		flt := envelope
		if pass {
			flt = passthrough
		}
		h := flt.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/") {
				t.Fatalf("invocation not signed: %q", r.Header.Get("Authorization"))
			}
			if fnErr {
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
			}
			w.WriteHeader(code)
			w.Write(answer)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code < 100 || w.Code > 999 {
			t.Fatalf("status %d", w.Code)
		}
		if code >= 300 && w.Code != code {
			t.Fatalf("Lambda's %d became %d", code, w.Code)
		}
	})
}
