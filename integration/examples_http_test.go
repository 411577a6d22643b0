package integration

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// smokeHTTP runs examples/http.yaml in front of nginx.
func smokeHTTP(t *testing.T, file string) {
	ng := testenv.Nginx(t, `location / { return 200 "nginx here"; }`)
	s := startExample(t, file, map[string]string{"127.0.0.1:8000": ng.Addr()})
	for path, want := range map[string]string{"/": "nginx here", "/healthz": "ok\n"} {
		resp, err := http.Get("http://" + s.Addr("web") + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
	s.WaitCounter("http.ingress.downstream_rq_2xx", 2, 5*time.Second)
}
