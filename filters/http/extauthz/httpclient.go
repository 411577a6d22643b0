package extauthz

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/sluice-proxy/sluice/cluster"
)

// maxDenialBody bounds the body of a denial kept from an HTTP service.
const maxDenialBody = 64 << 10

// httpClient speaks Envoy's HTTP ext_authz protocol: the client's request
// (its allowed headers, path behind path_prefix, the held body) sent to the
// service through a cluster; 200 allows, a 5xx or no answer fails, any
// other status denies with the service's status, headers and body.
type httpClient struct {
	svc                                       *HTTPService
	client                                    *http.Client
	reqHeaders                                matcher
	upSet, upAppend, clientDeny, clientOK, md matcher
	denyAll                                   bool // allowed_client_headers unset: all but Host
}

func newHTTPClient(s *HTTPService, clusters *cluster.Manager) *httpClient {
	name := s.ServerURI.Cluster
	t := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c := clusters.Get(name)
			if c == nil {
				return nil, fmt.Errorf("ext_authz: no cluster %q", name)
			}
			return c.Connect(ctx, 0, false)
		},
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
	}
	h := &httpClient{svc: s, client: &http.Client{Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	var ar AuthorizationRequest
	if s.AuthorizationRequest != nil {
		ar = *s.AuthorizationRequest
	}
	h.reqHeaders = append(compileList(ar.AllowedHeaders), exactMatchers("authorization", ":method", ":path", "host")...)
	if a := s.AuthorizationResponse; a != nil {
		h.upSet, h.upAppend, h.clientOK, h.md = compileList(a.AllowedUpstreamHeaders), compileList(a.AllowedUpstreamHeadersToAppend),
			compileList(a.AllowedClientHeadersOnSuccess), compileList(a.DynamicMetadataFromHeaders)
		if a.AllowedClientHeaders != nil && len(a.AllowedClientHeaders.Patterns) > 0 {
			h.clientDeny = append(compileList(a.AllowedClientHeaders), exactMatchers(":status", "content-length", "www-authenticate", "location")...)
		}
	}
	h.denyAll = h.clientDeny == nil
	return h
}

func (h *httpClient) check(ctx context.Context, req *authv3.CheckRequest) response {
	hr := req.GetAttributes().GetRequest().GetHttp()
	body := []byte(hr.GetBody())
	if len(body) == 0 {
		body = hr.GetRawBody()
	}
	// The URL is built from its parts: a Host with '/' or '?' in it must
	// not shift what the service sees as the path.
	target, err := url.ParseRequestURI(h.svc.PathPrefix + hr.GetPath())
	if err != nil {
		return response{verdict: failed}
	}
	target.Scheme, target.Host = "http", h.svc.ServerURI.Cluster
	out, err := http.NewRequestWithContext(ctx, hr.GetMethod(), target.String(), bytes.NewReader(body))
	if err != nil {
		return response{verdict: failed}
	}
	out.Host = hr.GetHost()
	out.ContentLength = int64(len(body))
	for k, v := range hr.GetHeaders() {
		if strings.HasPrefix(k, ":") || k == "content-length" || k == "host" || !h.reqHeaders.match(k) {
			continue
		}
		out.Header.Set(k, v)
	}
	if ar := h.svc.AuthorizationRequest; ar != nil {
		for _, kv := range ar.HeadersToAdd {
			out.Header.Set(kv.Key, kv.Value)
		}
	}
	resp, err := h.client.Do(out)
	if err != nil {
		return response{verdict: failed}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDenialBody))
		return response{verdict: failed}
	}
	if resp.StatusCode == http.StatusOK {
		return h.allowed(resp.Header)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxDenialBody))
	d := response{verdict: denied, code: resp.StatusCode, body: string(b)}
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if lk == "content-length" || lk == "date" {
			continue
		}
		if (h.denyAll && lk != "host") || h.clientDeny.match(lk) {
			for i, v := range vs {
				d.client = append(d.client, header{name: k, value: v, appendTo: i > 0})
			}
		}
	}
	return d
}

// allowed copies the answer's headers where the matchers say; the service
// lists headers to take off the request in x-envoy-auth-headers-to-remove.
func (h *httpClient) allowed(hdr http.Header) response {
	out := response{verdict: allowed}
	for _, list := range hdr.Values("X-Envoy-Auth-Headers-To-Remove") {
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out.remove = append(out.remove, n)
			}
		}
	}
	for k, vs := range hdr {
		lk := strings.ToLower(k)
		switch lk {
		case "x-envoy-auth-headers-to-remove", "content-length", "content-type", "date", "x-envoy-upstream-service-time":
			continue
		}
		for _, v := range vs {
			if h.upSet.match(lk) {
				out.upstream = append(out.upstream, header{name: k, value: v})
			}
			if h.upAppend.match(lk) {
				out.upstream = append(out.upstream, header{name: k, value: v, appendTo: true})
			}
			if h.clientOK.match(lk) {
				out.client = append(out.client, header{name: k, value: v})
			}
			if h.md.match(lk) {
				if out.metadata == nil {
					out.metadata = map[string]any{}
				}
				out.metadata[lk] = v
			}
		}
	}
	return out
}

func (h *httpClient) close() error {
	h.client.CloseIdleConnections()
	return nil
}

// exactMatchers are matchers of exact names.
func exactMatchers(names ...string) matcher {
	l := &ListStringMatcher{}
	for _, n := range names {
		n := n
		l.Patterns = append(l.Patterns, configExact(n))
	}
	return compileList(l)
}
