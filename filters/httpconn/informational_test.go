package httpconn_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"

	"golang.org/x/net/http2"
)

// TestEarlyHintsForwarded: a 103 Early Hints from the upstream reaches an
// HTTP/1.1 and an HTTP/2 (h2c) client before the final response, with its
// Link header, and the hint's fields do not leak into the final response.
func TestEarlyHintsForwarded(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "page")
	})
	s := startHCM(t, be.addr(), "", "")
	h2 := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer h2.CloseIdleConnections()
	h1 := &http.Transport{}
	defer h1.CloseIdleConnections()
	for _, rt := range []http.RoundTripper{h1, h2} {
		earlyHints(t, rt, "http://"+s.Addr("l")+"/")
	}
}

func earlyHints(t *testing.T, rt http.RoundTripper, url string) {
	var mu sync.Mutex
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusEarlyHints {
				hints = append(hints, h.Get("Link"))
			}
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != 200 || string(body) != "page" {
		t.Fatalf("%s: final response %d %q", resp.Proto, resp.StatusCode, body)
	}
	if len(hints) != 1 || hints[0] != "</style.css>; rel=preload" {
		t.Fatalf("%s: 103 hints seen by the client: %q", resp.Proto, hints)
	}
	if l := resp.Header.Get("Link"); l != "" {
		t.Errorf("the hint's Link leaked into the final response: %q", l)
	}
}
