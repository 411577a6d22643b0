package dynamo_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// bodies is what an upstream received, in order.
type bodies struct {
	mu  sync.Mutex
	got []string
}

func (b *bodies) list() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got...)
}

// startJSON is a Go HTTP upstream that answers every request with body
// and status, and keeps the request bodies it received.
func startJSON(t testing.TB, status int, body string) (string, *bodies) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := &bodies{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.got = append(got.got, string(b))
		got.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), got
}

func post(t *testing.T, url, target, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestBadBodies: malformed JSON either way, and a body over the bound, are
// forwarded untouched and counted; the proxy keeps serving.
func TestBadBodies(t *testing.T) {
	up, got := startJSON(t, 400, `{"__type":`)
	s := sluiceFor(t, up, "[{dynamo: {max_body_bytes: 64}}, {router: {}}]")
	url := "http://" + s.Addr("l") + "/"
	big := `{"TableName":"t","Item":{"x":{"S":"` + strings.Repeat("a", 200) + `"}}}`
	for _, body := range []string{`{"TableName":`, `not json`, big} {
		if code := post(t, url, "DynamoDB_20120810.PutItem", body); code != 400 {
			t.Fatalf("status %d", code)
		}
	}
	post(t, url, "NoDot", `{"TableName":"t"}`)
	p := "http.ingress.dynamodb."
	waitStats(t, s, map[string]uint64{
		p + "invalid_req_body":                        3,
		p + "invalid_resp_body":                       4,
		p + "operation.PutItem.upstream_rq_total_400": 3,
		p + "operation_missing":                       1,
		p + "table_missing":                           4, // no operation: no table either, as in Envoy
	})
	if l := got.list(); len(l) != 4 || l[2] != big {
		t.Fatalf("upstream bodies %q", l)
	}
}
