package awslambda

import (
	"net/http/httptest"
	"testing"
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
