package extauthz

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"
)

// BenchmarkCheckRequest: building and encoding the CheckRequest of a
// curl-sized request (what each check costs before the network).
func BenchmarkCheckRequest(b *testing.B) {
	raw, err := os.ReadFile("testdata/curl_post.http")
	if err != nil {
		b.Fatal(err)
	}
	f := &Filter{cfg: &Config{}}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		b.Fatal(err)
	}
	ext := map[string]string{"tier": "gold"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(f.checkRequest(r, nil, ext)); err != nil {
			b.Fatal(err)
		}
	}
}
