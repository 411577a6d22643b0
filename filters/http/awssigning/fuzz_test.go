package awssigning

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FuzzSign: any path, query, header name and value from a client is signed
// or refused without panicking, and a signed request always carries an
// Authorization for the configured scope. Seeds: AWS suite requests.
func FuzzSign(f *testing.F) {
	f.Add("/", "Param1=value1", "My-Header1", " value1")
	f.Add("/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", "My-Header2", "\"a   b   c\"")
	f.Add("/example space/", "a=1&a=2", "X-Forwarded-For", "10.0.0.1")
	flt := testSigner(f, &Config{ServiceName: "service", Region: "us-east-1", MaxPayloadBytes: defaultMaxPayload})
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, path, query, name, value string) {
		r := &http.Request{Method: "GET", Host: "example.amazonaws.com", Header: http.Header{}, URL: &url.URL{Path: path, RawQuery: query}}
		r.Header[name] = []string{value}
		if err := flt.sign(context.Background(), r, creds, unsignedPayload, when); err != nil {
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request") {
			t.Fatalf("authorization %q", r.Header.Get("Authorization"))
		}
	})
}
