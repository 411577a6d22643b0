package httppool

import (
	"net/http"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestSNIFor: auto_sni's name is the Host without port or trailing dot,
// or the override header's value when the request has it; nothing without
// auto_sni or over plain text.
func TestSNIFor(t *testing.T) {
	auto := &settings{sni: &config.UpstreamHTTPSNI{AutoSNI: true, OverrideAutoSNIHeader: "x-sni"}}
	req := func(host, override string) *http.Request {
		r, _ := http.NewRequest("GET", "http://ignored/", nil)
		r.Host = host
		if override != "" {
			r.Header.Set("X-Sni", override)
		}
		return r
	}
	for _, c := range []struct {
		s         *settings
		host, hdr string
		k         kind
		want      string
	}{
		{auto, "api.example:8443", "", kindTLSAuto, "api.example"},
		{auto, "api.example.", "", kindTLS2, "api.example"},
		{auto, "api.example", "backend.internal", kindTLS1, "backend.internal"},
		{auto, "api.example", "", kindH1, ""},
		{&settings{}, "api.example", "", kindTLSAuto, ""},
	} {
		if got := c.s.sniFor(req(c.host, c.hdr), c.k); got != c.want {
			t.Errorf("sniFor(Host %q, x-sni %q, kind %d) = %q, want %q", c.host, c.hdr, c.k, got, c.want)
		}
	}
}
