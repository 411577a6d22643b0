// Package awssigning is Envoy's envoy.filters.http.aws_request_signing: it
// signs each request with AWS Signature Version 4 before it goes upstream,
// so clients need no AWS credentials of their own. The signing is
// aws-sdk-go-v2's signer (aws/signer/v4); this package only decides what is
// signed (which headers, the payload hash), finds the credentials and keeps
// Envoy's stats (http.<stat_prefix>.aws_request_signing.*).
package awssigning

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return newFilter(cfg.(*Config), env), nil
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
	cfg      *Config
	excluded []router.Match
	signer   *v4.Signer
	creds    *Credentials
	log      *slog.Logger
	// Envoy's counters.
	signingAdded, signingFailed, payloadAdded, payloadFailed *stats.Counter
	// now is the signing clock (tests fix it).
	now func() time.Time
}

func newFilter(cfg *Config, env *httpfilter.Env) *Filter {
	f := &Filter{cfg: cfg, signer: v4.NewSigner(), creds: &Credentials{}, log: slog.Default(), now: time.Now}
	if env != nil && env.Log != nil {
		f.log = env.Log
	}
	for i := range cfg.MatchExcludedHeaders {
		f.excluded = append(f.excluded, cfg.MatchExcludedHeaders[i].Compile())
	}
	sc := stats.New().Root().Sub("http").Sub("aws_request_signing")
	if env != nil && env.Stats != nil {
		sc = env.Stats.Sub("aws_request_signing")
	}
	f.signingAdded, f.signingFailed = sc.Counter("signing_added"), sc.Counter("signing_failed")
	f.payloadAdded, f.payloadFailed = sc.Counter("payload_signing_added"), sc.Counter("payload_signing_failed")
	return f
}

// Wrap returns the signing handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.cfg.HostRewrite != "" {
			r.Host = f.cfg.HostRewrite
		}
		hash := unsignedPayload
		if !f.cfg.UseUnsignedPayload {
			body, err := f.readBody(r)
			if err != nil {
				f.payloadFailed.Inc()
				f.signingFailed.Inc()
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
		creds, err := f.creds.Get(r.Context())
		if err == nil {
			err = f.sign(r.Context(), r, creds, hash, f.now())
		}
		if err != nil {
			// Envoy sends the request on unsigned and counts it.
			f.log.Warn("aws_request_signing: request sent unsigned", "err", err)
			f.signingFailed.Inc()
			if !f.cfg.UseUnsignedPayload {
				f.payloadFailed.Inc()
			}
		} else {
			f.signingAdded.Inc()
			if !f.cfg.UseUnsignedPayload {
				f.payloadAdded.Inc()
			}
		}
		next.ServeHTTP(w, r)
	})
}

var errTooLarge = errors.New("request body exceeds the signing buffer limit")

// readBody buffers the body (at most MaxPayloadBytes) and puts a reader over
// the copy back on r, with a known length.
func (f *Filter) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > f.cfg.MaxPayloadBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, f.cfg.MaxPayloadBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.cfg.MaxPayloadBytes {
		return nil, errTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return body, nil
}

// sign adds Authorization, X-Amz-Date and X-Amz-Security-Token to r. The
// excluded headers are hidden from the signer by signing a copy without
// them.
func (f *Filter) sign(ctx context.Context, r *http.Request, creds aws.Credentials, hash string, t time.Time) error {
	c := r.Clone(ctx)
	c.Header = make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		if !f.isExcluded(k) {
			c.Header[k] = vs
		}
	}
	// Content-Length travels in r.ContentLength; the signer signs it from there.
	c.Header.Del("Content-Length")
	if err := f.signer.SignHTTP(ctx, creds, c, hash, f.cfg.ServiceName, f.cfg.Region, t); err != nil {
		return err
	}
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := c.Header.Get(h); v != "" {
			r.Header.Set(h, v)
		}
	}
	return nil
}

// isExcluded reports whether header k stays out of the signature.
func (f *Filter) isExcluded(k string) bool {
	for _, a := range alwaysExcluded {
		if http.CanonicalHeaderKey(a) == k {
			return true
		}
	}
	lk := []byte(k)
	for i, b := range lk {
		if 'A' <= b && b <= 'Z' {
			lk[i] = b + 'a' - 'A'
		}
	}
	for _, m := range f.excluded {
		if m.Match(string(lk)) {
			return true
		}
	}
	return false
}
