package http1_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/codec/http1"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// exchange sends raw requests on one connection to addr and reads each
// response with ReadResponse, returning "status body trailer" per request
// and the raw bytes the server sent.
func exchange(t *testing.T, addr string, reqs []string, methods []string) ([]string, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var raw strings.Builder
	br := bufio.NewReader(io.TeeReader(c, &raw))
	var out []string
	for i, r := range reqs {
		if _, err := io.WriteString(c, r); err != nil {
			t.Fatal(err)
		}
		resp, _, err := http1.ReadResponse(br, methods[i], http1.Limits{}, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		out = append(out, resp.Status+" "+string(body)+" "+resp.Trailer.Get("X-Sum"))
		if resp.Close {
			break
		}
	}
	return out, []byte(raw.String())
}

// TestReadResponseNginx reads nginx 1.22's responses on one keep-alive
// connection: a fixed body, chunked (a proxied stream), HEAD, 304 and 404.
func TestReadResponseNginx(t *testing.T) {
	ng := testenv.Nginx(t, `
        location = /fixed { return 200 "hello from nginx"; }
        location = /etag { add_header ETag '"x"'; if ($http_if_none_match = '"x"') { return 304; } return 200 "e"; }
        location = /chunked { proxy_pass http://`+goServer(t)+`/chunked; proxy_http_version 1.1; proxy_buffering off; }
	`)
	reqs := []string{
		"GET /fixed HTTP/1.1\r\nHost: h\r\n\r\n",
		"HEAD /fixed HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /etag HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n",
		"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /fixed HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	}
	got, raw := exchange(t, ng.Addr(), reqs, []string{"GET", "HEAD", "GET", "GET", "GET", "GET"})
	want := []string{"200 OK hello from nginx ", "200 OK  ", "304 Not Modified  ", "200 OK part one, part two ", "404 Not Found ", "200 OK hello from nginx "}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if i == 4 {
			if !strings.HasPrefix(got[i], want[i]) || !strings.Contains(got[i], "nginx") {
				t.Errorf("response %d: %q", i, got[i])
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("response %d: %q, want %q", i, got[i], want[i])
		}
	}
	saveSeed(t, "nginx_keepalive.resp", raw)
}

// TestReadResponseGo reads Go net/http server responses: a chunked body
// with a trailer, 100 Continue before the final answer, and a 204.
func TestReadResponseGo(t *testing.T) {
	addr := goServer(t)
	reqs := []string{
		"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nping",
		"DELETE /nothing HTTP/1.1\r\nHost: h\r\n\r\n",
	}
	got, raw := exchange(t, addr, reqs, []string{"GET", "POST", "DELETE"})
	want := []string{"200 OK part one, part two 42", "200 OK ping ", "204 No Content  "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	saveSeed(t, "go_trailers.resp", raw)
}

// goServer is a net/http server answering /chunked (two flushed parts and
// an X-Sum trailer), /echo and /nothing (204).
func goServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "part one, ")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part two")
			w.Header().Set("X-Sum", "42")
		case "/echo":
			io.Copy(w, r.Body)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// saveSeed writes a captured response stream to testdata when
// SLUICE_SAVE_SEEDS is set (FuzzReadResponse's seeds came from here).
func saveSeed(t *testing.T, name string, raw []byte) {
	if os.Getenv("SLUICE_SAVE_SEEDS") == "" {
		return
	}
	if err := os.WriteFile(filepath.Join("testdata", name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
