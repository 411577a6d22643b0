package extauthz

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/config"
)

// FuzzCheckRequest feeds client requests (seeded with one curl sent, as
// captured) through the body hold and the CheckRequest build, and an
// HTTP service's answer headers through the allow lists: nothing may
// panic, the held body is bounded and the client's body is kept whole.
func FuzzCheckRequest(f *testing.F) {
	seed, err := os.ReadFile("testdata/curl_post.http")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, "X-Auth-User: alice\r\nX-Envoy-Auth-Headers-To-Remove: authorization, x-a\r\n")
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "")
	pre := "x-"
	cfg := &Config{WithRequestBody: &BufferSettings{MaxRequestBytes: 8, PackAsBytes: true}, MetadataContextNamespaces: []string{"ns"},
		HTTPService: &HTTPService{AuthorizationResponse: &AuthorizationResponse{
			AllowedUpstreamHeaders: &ListStringMatcher{Patterns: []config.StringMatcher{{Prefix: pre}}}}}}
	flt := &Filter{cfg: cfg}
	hc := newHTTPClient(cfg.HTTPService, nil)
	f.Fuzz(func(t *testing.T, raw []byte, answer string) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		held, partial, err := readBody(r, 8)
		if err != nil {
			return
		}
		if len(held) > 8 || (partial && len(held) != 8) {
			t.Fatalf("held %d bytes, partial %v", len(held), partial)
		}
		if _, err := proto.Marshal(flt.checkRequest(r, held, map[string]string{"k": "v"})); err != nil {
			t.Fatal(err)
		}
		if whole, err := io.ReadAll(r.Body); err == nil && !bytes.HasPrefix(whole, held) {
			t.Fatalf("body %q does not start with the held %q", whole, held)
		}
		hdr, err := readHeader(answer)
		if err != nil {
			return
		}
		resp := hc.allowed(hdr)
		for _, h := range resp.upstream {
			if len(h.name) < 2 || (h.name[0] != 'X' && h.name[0] != 'x') {
				t.Fatalf("header %q passed the allow list", h.name)
			}
		}
		out := http.Header{}
		apply(out, append(resp.upstream, header{name: answer, value: answer}))
		for k, vs := range out {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n") {
					t.Fatalf("header %q: %q written", k, v)
				}
			}
		}
	})
}

func readHeader(s string) (http.Header, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader([]byte("HTTP/1.1 200 OK\r\n"+s+"\r\n"))), nil)
	if err != nil {
		return nil, err
	}
	return resp.Header, nil
}
