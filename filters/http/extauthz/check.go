package extauthz

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// checkRequest builds Envoy's CheckRequest for r: the peer and local
// addresses, the request's headers (pseudo-headers included, names lower
// case, repeated values joined by ","), the body held for the check, the
// route's context extensions and the configured metadata namespaces.
func (f *Filter) checkRequest(r *http.Request, body []byte, ext map[string]string) *authv3.CheckRequest {
	h := map[string]string{
		":authority": r.Host, ":method": r.Method, ":path": r.URL.RequestURI(), ":scheme": scheme(r),
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if !f.headerAllowed(lk) {
			continue
		}
		h[lk] = strings.Join(vs, ",")
	}
	hr := &authv3.AttributeContext_HttpRequest{
		Id: r.Header.Get("X-Request-Id"), Method: r.Method, Headers: h, Path: r.URL.RequestURI(),
		Host: r.Host, Scheme: scheme(r), Protocol: r.Proto, Size: r.ContentLength,
	}
	if r.URL.RawQuery != "" {
		hr.Query = r.URL.RawQuery
	}
	if body != nil {
		if f.cfg.WithRequestBody.PackAsBytes {
			hr.RawBody = body
		} else {
			hr.Body = string(body)
		}
	}
	attrs := &authv3.AttributeContext{
		Source:            &authv3.AttributeContext_Peer{Address: sockAddr(r.RemoteAddr)},
		Destination:       &authv3.AttributeContext_Peer{},
		Request:           &authv3.AttributeContext_Request{Time: timestamppb.Now(), Http: hr},
		ContextExtensions: ext,
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		attrs.Destination.Address = sockAddr(la.String())
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		attrs.Source.Principal = principal(c)
		if f.cfg.IncludePeerCertificate {
			attrs.Source.Certificate = url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
		}
	}
	if len(f.cfg.MetadataContextNamespaces) > 0 {
		md := httpfilter.MetadataFromContext(r.Context())
		fm := map[string]*structpb.Struct{}
		for _, ns := range f.cfg.MetadataContextNamespaces {
			if kv, ok := md[ns]; ok {
				if s, err := structpb.NewStruct(kv); err == nil {
					fm[ns] = s
				}
			}
		}
		if len(fm) > 0 {
			attrs.MetadataContext = &corev3.Metadata{FilterMetadata: fm}
		}
	}
	return &authv3.CheckRequest{Attributes: attrs}
}

// headerAllowed applies allowed_headers and disallowed_headers.
func (f *Filter) headerAllowed(name string) bool {
	if f.allowedHeaders != nil && !f.allowedHeaders.match(name) {
		return false
	}
	return !f.disallowedHeaders.match(name)
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// principal is Envoy's source.principal: the first URI SAN, else the
// subject.
func principal(c *x509.Certificate) string {
	if len(c.URIs) > 0 {
		return c.URIs[0].String()
	}
	return c.Subject.String()
}

func sockAddr(hostport string) *corev3.Address {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil
	}
	p, _ := strconv.ParseUint(port, 10, 32)
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(p)}}}}
}

// readBody holds up to max bytes of r's body for the check and puts them
// back in front of the rest. partial reports a longer body.
func readBody(r *http.Request, max uint32) (held []byte, partial bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, false, nil
	}
	held, err = io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
	if err != nil {
		return nil, false, err
	}
	if len(held) > int(max) {
		partial = true
	}
	rest := r.Body
	r.Body = readCloser{io.MultiReader(bytes.NewReader(held), rest), rest}
	if partial {
		held = held[:max]
	}
	return held, partial, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
