package dynamo

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// FuzzFilter: any DynamoDB exchange, seeded with real aws-sdk-go-v2 ↔
// dynalite request and response bodies (codec/dynamodb/testdata), goes
// through the whole counting handler without panicking, and both bodies
// reach the other side unchanged (the filter only copies them aside, up
// to a small bound here so the over-bound path runs too).
func FuzzFilter(f *testing.F) {
	reqs, _ := filepath.Glob("../../../codec/dynamodb/testdata/*-req-*.json")
	if len(reqs) == 0 {
		f.Fatal("no seed bodies")
	}
	for _, req := range reqs {
		b, err := os.ReadFile(req)
		if err != nil {
			f.Fatal(err)
		}
		op := strings.SplitN(filepath.Base(req), "-", 2)[0]
		resp, _ := os.ReadFile(strings.Replace(req, "-req-", "-resp-", 1))
		f.Add("DynamoDB_20120810."+op, b, uint16(200), resp)
	}
	f.Add("DynamoDB_20120810.PutItem", []byte(`{"TableName":"users"}`), uint16(400),
		[]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`))
	fac, _ := httpfilter.Lookup(Name)
	flt, err := fac.Build(&Config{MaxBodyBytes: 512}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target string, reqBody []byte, status uint16, respBody []byte) {
		code := 100 + int(status)%500
		if code < 200 {
			code += 100 // an informational status is not a final answer
		}
		var got []byte
		h := flt.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
			w.WriteHeader(code)
			w.Write(respBody)
		}))
		r := httptest.NewRequest("POST", "/", bytes.NewReader(reqBody))
		r.Header.Set("X-Amz-Target", target)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !bytes.Equal(got, reqBody) || w.Code != code || !bytes.Equal(w.Body.Bytes(), respBody) && code != 204 && code != 304 {
			t.Fatalf("exchange changed: request %q -> %q, %d -> %d", reqBody, got, code, w.Code)
		}
	})
}
