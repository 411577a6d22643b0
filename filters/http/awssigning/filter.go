// Package awssigning is Envoy's envoy.filters.http.aws_request_signing: it
// signs each request with AWS Signature Version 4 (or 4a) before it goes
// upstream, so clients need no AWS credentials of their own. The signing
// is the AWS SDKs': aws-sdk-go-v2's signer (aws/signer/v4) for SigV4 and
// presigned URLs, smithy-go's public aws-http-auth/sigv4a for SigV4A. This
// package only decides what is signed (which headers, the payload hash),
// finds the credentials (internal/awscreds) and keeps Envoy's stats
// (http.<stat_prefix>.aws_request_signing.*).
package awssigning

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return newFilter(cfg.(*Config), env)
		},
	})
}

// unsignedPayload is the payload hash SigV4 accepts in place of a digest.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// alwaysExcluded are left out of every signature (Envoy's defaults): proxies
// on the way may change them.
var alwaysExcluded = []string{"x-forwarded-for", "x-forwarded-proto", "x-amzn-trace-id"}

// Filter signs requests; one is shared by every stream.
type Filter struct {
	def      *signer
	perRoute httpfilter.PerRoute[*signer]
	log      *slog.Logger
	// now is the signing clock (tests fix it).
	now func() time.Time
}

func newFilter(cfg *Config, env *httpfilter.Env) (*Filter, error) {
	sc := stats.New().Root().Sub("http")
	if env != nil && env.Stats != nil {
		sc = env.Stats
	}
	root := sc.Store().Root()
	def, err := newSigner(cfg, sc.Sub("aws_request_signing"), root)
	if err != nil {
		return nil, err
	}
	f := &Filter{def: def, log: slog.Default(), now: time.Now}
	if env != nil && env.Log != nil {
		f.log = env.Log
	}
	f.perRoute.NewConfig = func() any { return &PerRouteConfig{AwsRequestSigning: NewConfig()} }
	f.perRoute.Build = func(cfg any) (*signer, error) {
		pr := cfg.(*PerRouteConfig)
		// Envoy names a route's stats <stat_prefix>aws_request_signing.*
		// (the prefix as written: "api." gives api.aws_request_signing.)
		// in the server's root scope.
		return newSigner(pr.AwsRequestSigning, root.Sub(pr.StatPrefix+"aws_request_signing"), root)
	}
	return f, nil
}

// signerFor picks the route's own config over the filter's.
func (f *Filter) signerFor(r *http.Request) (*signer, error) {
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		for _, key := range []string{Name, EnvoyName} {
			if raw := st.Route.PerFilterConfig(key); raw != nil {
				return f.perRoute.Get(key, raw)
			}
		}
	}
	return f.def, nil
}

// Wrap returns the signing handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.signerFor(r)
		if err != nil {
			f.log.Warn("aws_request_signing: route config", "err", err)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		if s.cfg.HostRewrite != "" {
			r.Host = s.cfg.HostRewrite
		}
		hash := unsignedPayload
		if !s.cfg.UseUnsignedPayload {
			body, err := readBody(r, s.maxBody)
			if err != nil {
				s.payloadFailed.Inc()
				s.signingFailed.Inc()
				if errors.Is(err, errTooLarge) {
					http.Error(w, "Payload Too Large", http.StatusRequestEntityTooLarge)
					return
				}
				f.log.Debug("aws_request_signing: reading the body", "err", err)
				http.Error(w, "Bad Request", http.StatusBadRequest)
				return
			}
			sum := sha256.Sum256(body)
			hash = hex.EncodeToString(sum[:])
		}
		r.Header.Set("X-Amz-Content-Sha256", hash)
		creds, err := s.creds.Get(r.Context())
		if err == nil {
			err = s.sign(r.Context(), r, creds, hash, f.now())
		}
		if err != nil {
			// Envoy sends the request on unsigned and counts it.
			f.log.Warn("aws_request_signing: request sent unsigned", "err", err)
			s.signingFailed.Inc()
			if !s.cfg.UseUnsignedPayload {
				s.payloadFailed.Inc()
			}
		} else {
			s.signingAdded.Inc()
			if !s.cfg.UseUnsignedPayload {
				s.payloadAdded.Inc()
			}
		}
		next.ServeHTTP(w, r)
	})
}

var errTooLarge = errors.New("request body exceeds the signing buffer limit")

// readBody buffers the body (at most max) and puts a reader over the copy
// back on r, with a known length.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, errTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return body, nil
}
