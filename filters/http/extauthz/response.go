package extauthz

import (
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// verdict is what a check decided.
type verdict uint8

const (
	allowed verdict = iota
	denied
	failed // the service could not be asked, or answered with an error
)

// header is one header name and value to apply.
type header struct {
	name, value string
	appendTo    bool // add a value instead of replacing them
}

// response is a service's answer in the one shape both clients give.
type response struct {
	verdict verdict
	// code and body are the denial's status and body.
	code int
	body string
	// upstream are applied to the allowed request; remove are removed
	// from it.
	upstream []header
	remove   []string
	// client are the denial's headers (denied) or the headers added to the
	// upstream's response (allowed).
	client []header
	// metadata goes under envoy.filters.http.ext_authz.
	metadata map[string]any
}

// apply sets or adds the headers; one the service sent that HTTP cannot
// carry (a bad name, a CR or LF in the value) is dropped, never written.
func apply(h http.Header, hs []header) {
	for _, x := range hs {
		if !httpguts.ValidHeaderFieldName(x.name) || !httpguts.ValidHeaderFieldValue(x.value) {
			continue
		}
		if x.appendTo {
			h.Add(x.name, x.value)
		} else {
			h.Set(x.name, x.value)
		}
	}
}
