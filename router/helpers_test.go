package router

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"go.yaml.in/yaml/v3"
)

// decodeRC decodes src as http_connection_manager.route_config would be,
// with the strict decoder and its validation.
func decodeRC(src string) (*config.RouteConfiguration, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		return nil, err
	}
	var rc config.RouteConfiguration
	errs := &config.Errors{}
	(&config.Decoder{Errs: errs}).Decode("route_config", &n, &rc)
	return &rc, errs.Err()
}

func compileYAML(t testing.TB, src string) *Table {
	t.Helper()
	rc, err := decodeRC(src)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	tbl, err := Compile(rc)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return tbl
}

// request builds a server-side request as net/http hands it to a handler.
func request(method, target, host string, headers ...string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return req
}

func routeName(tbl *Table, req *http.Request) string {
	r := tbl.Route(req)
	if r == nil {
		return "<none>"
	}
	return r.Name()
}
