package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// httpServer is Envoy's HTTP ext_authz protocol over the policy: the
// request it receives is the client's (path behind path_prefix, the
// allowed headers, the body when with_request_body); 200 allows, with the
// policy's headers on the response for Envoy to copy upstream; anything
// else is the denial Envoy sends to the client.
type httpServer struct {
	d      *decider
	prefix string
}

func (s *httpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, s.prefix) {
		http.NotFound(w, r)
		return
	}
	r.URL.Path = strings.TrimPrefix(r.URL.Path, s.prefix)
	r.URL.RawPath = ""
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	headers := map[string]any{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	httpAttrs := map[string]any{"method": r.Method, "path": r.URL.RequestURI(), "host": r.Host, "headers": headers, "body": string(body)}
	input := map[string]any{"attributes": map[string]any{"request": map[string]any{"http": httpAttrs}}}
	addParsed(input, r.URL.RequestURI(), string(body), r.Header.Get("Content-Type"))
	d, err := s.d.decide(r.Context(), input)
	if err != nil {
		log.Printf("opaauthz: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if d.Allowed {
		for k, v := range d.Headers {
			w.Header().Set(k, v)
		}
		for k, v := range d.ResponseHeaders {
			w.Header().Set(k, v)
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	for k, v := range d.ResponseHeaders {
		w.Header().Set(k, v)
	}
	code := d.Status
	if code == 0 {
		code = http.StatusForbidden
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, d.Body)
}
