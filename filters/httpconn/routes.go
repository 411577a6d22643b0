package httpconn

import (
	"net/http"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// This file is a stand-in for router.Table until the shared router lands:
// virtual hosts by domain (exact, *.suffix, prefix.*, *), routes by prefix or
// path, and the cluster, direct_response and redirect actions. The manager
// uses it only through routeTable and matchedRoute.

// routeTable finds the route of a request; nil means no route (404).
type routeTable interface {
	Route(r *http.Request) matchedRoute
}

// matchedRoute is what the manager needs of a route.
type matchedRoute interface {
	Name() string
	Cluster(r *http.Request) string
	DirectResponse() (status int, body string, ok bool)
	Redirect(r *http.Request) (location string, status int, ok bool)
	Timeout() time.Duration
	PerFilterConfig(name string) any
}

// RouteConfiguration is Envoy's RouteConfiguration (the part the stand-in
// reads).
type RouteConfiguration struct {
	Name         string        `yaml:"name" json:"name,omitempty"`
	VirtualHosts []VirtualHost `yaml:"virtual_hosts" json:"virtual_hosts"`
}

// VirtualHost is Envoy's VirtualHost.
type VirtualHost struct {
	Name    string   `yaml:"name" json:"name"`
	Domains []string `yaml:"domains" json:"domains"`
	Routes  []Route  `yaml:"routes" json:"routes"`
}

// Route is Envoy's Route.
type Route struct {
	Name           string          `yaml:"name" json:"name,omitempty"`
	Match          RouteMatch      `yaml:"match" json:"match"`
	Route          *RouteAction    `yaml:"route" json:"route,omitempty"`
	DirectResponse *DirectResponse `yaml:"direct_response" json:"direct_response,omitempty"`
	Redirect       *Redirect       `yaml:"redirect" json:"redirect,omitempty"`
}

// RouteMatch is Envoy's RouteMatch: prefix or path.
type RouteMatch struct {
	Prefix *string `yaml:"prefix" json:"prefix,omitempty"`
	Path   *string `yaml:"path" json:"path,omitempty"`
}

// RouteAction is Envoy's RouteAction: a cluster and a timeout (default 15s,
// 0s none).
type RouteAction struct {
	Cluster string           `yaml:"cluster" json:"cluster"`
	Timeout *config.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// DirectResponse is Envoy's DirectResponseAction.
type DirectResponse struct {
	Status uint32 `yaml:"status" json:"status"`
	Body   *struct {
		InlineString string `yaml:"inline_string" json:"inline_string"`
	} `yaml:"body" json:"body,omitempty"`
}

// Redirect is Envoy's RedirectAction (the part the stand-in reads).
type Redirect struct {
	HostRedirect  string `yaml:"host_redirect" json:"host_redirect,omitempty"`
	PathRedirect  string `yaml:"path_redirect" json:"path_redirect,omitempty"`
	HTTPSRedirect bool   `yaml:"https_redirect" json:"https_redirect,omitempty"`
	ResponseCode  string `yaml:"response_code" json:"response_code,omitempty"`
}

func (rc *RouteConfiguration) validate(path string, errs *config.Errors) {
	for i, vh := range rc.VirtualHosts {
		p := config.Index(config.Join(path, "virtual_hosts"), i)
		if len(vh.Domains) == 0 {
			errs.Add(config.Join(p, "domains"), "needs at least one domain")
		}
		for j, r := range vh.Routes {
			rp := config.Index(config.Join(p, "routes"), j)
			if (r.Match.Prefix == nil) == (r.Match.Path == nil) {
				errs.Add(config.Join(rp, "match"), "give exactly one of prefix and path")
			}
			n := 0
			for _, set := range []bool{r.Route != nil, r.DirectResponse != nil, r.Redirect != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				errs.Add(rp, "give exactly one of route, direct_response and redirect")
			}
			if r.Route != nil && r.Route.Cluster == "" {
				errs.Add(config.Join(rp, "route.cluster"), "required")
			}
			if d := r.DirectResponse; d != nil && (d.Status < 200 || d.Status > 599) {
				errs.Add(config.Join(rp, "direct_response.status"), "must be between 200 and 599")
			}
		}
	}
}

func (rc *RouteConfiguration) clusterRefs(path string) []config.ClusterRef {
	var out []config.ClusterRef
	for i, vh := range rc.VirtualHosts {
		for j, r := range vh.Routes {
			if r.Route != nil && r.Route.Cluster != "" {
				p := config.Index(config.Join(config.Index(config.Join(path, "virtual_hosts"), i), "routes"), j)
				out = append(out, config.ClusterRef{Path: config.Join(p, "route.cluster"), Name: r.Route.Cluster})
			}
		}
	}
	return out
}

// Route matches r: the first virtual host whose domain fits the host (port
// stripped), then its first route whose match fits the path.
func (rc *RouteConfiguration) Route(r *http.Request) matchedRoute {
	host := strings.ToLower(r.Host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	path := r.URL.Path
	for i := range rc.VirtualHosts {
		vh := &rc.VirtualHosts[i]
		if !domainMatch(vh.Domains, host) {
			continue
		}
		for j := range vh.Routes {
			rt := &vh.Routes[j]
			if m := rt.Match; (m.Prefix != nil && strings.HasPrefix(path, *m.Prefix)) || (m.Path != nil && path == *m.Path) {
				return standIn{rt}
			}
		}
		return nil
	}
	return nil
}

func domainMatch(domains []string, host string) bool {
	for _, d := range domains {
		switch {
		case d == "*", d == host:
			return true
		case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1:
			return true
		case strings.HasSuffix(d, "*") && strings.HasPrefix(host, d[:len(d)-1]) && len(host) > len(d)-1:
			return true
		}
	}
	return false
}

// standIn is a matched stand-in route.
type standIn struct{ *Route }

func (rt standIn) Name() string                    { return rt.Route.Name }
func (rt standIn) PerFilterConfig(name string) any { return nil }
func (rt standIn) Cluster(r *http.Request) string {
	if rt.Route.Route == nil {
		return ""
	}
	return rt.Route.Route.Cluster
}

func (rt standIn) DirectResponse() (int, string, bool) {
	d := rt.Route.DirectResponse
	if d == nil {
		return 0, "", false
	}
	body := ""
	if d.Body != nil {
		body = d.Body.InlineString
	}
	return int(d.Status), body, true
}

func (rt standIn) Redirect(r *http.Request) (string, int, bool) {
	rd := rt.Route.Redirect
	if rd == nil {
		return "", 0, false
	}
	scheme := "http"
	if r.TLS != nil || rd.HTTPSRedirect {
		scheme = "https"
	}
	host, path := r.Host, r.URL.RequestURI()
	if rd.HostRedirect != "" {
		host = rd.HostRedirect
	}
	if rd.PathRedirect != "" {
		path = rd.PathRedirect
	}
	code := map[string]int{"": 301, "MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303,
		"TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308}[rd.ResponseCode]
	return scheme + "://" + host + path, code, true
}

func (rt standIn) Timeout() time.Duration {
	if a := rt.Route.Route; a != nil && a.Timeout != nil {
		return a.Timeout.D()
	}
	return 15 * time.Second
}
