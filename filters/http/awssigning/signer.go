package awssigning

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	smithycreds "github.com/aws/smithy-go/aws-http-auth/credentials"
	"github.com/aws/smithy-go/aws-http-auth/sigv4a"
	smithyv4 "github.com/aws/smithy-go/aws-http-auth/v4"

	"github.com/sluice-proxy/sluice/internal/awscreds"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// signer is one compiled AwsRequestSigning: the filter's own, or a
// route's (AwsRequestSigningPerRoute) with its own credentials and stats.
type signer struct {
	cfg       *Config
	region    string   // SigV4
	regionSet []string // SigV4A
	maxBody   int64
	excluded  []router.Match
	v4        *v4.Signer
	v4a       *sigv4a.Signer // nil for SigV4
	creds     *awscreds.Provider
	// Envoy's counters.
	signingAdded, signingFailed, payloadAdded, payloadFailed *stats.Counter
}

// newSigner compiles cfg; sc is the scope of its counters
// (<prefix>aws_request_signing.), root the store's root (credential
// provider stats).
func newSigner(cfg *Config, sc, root *stats.Scope) (*signer, error) {
	s := &signer{cfg: cfg, v4: v4.NewSigner(), maxBody: cfg.MaxPayloadBytes}
	if s.maxBody == 0 {
		s.maxBody = defaultMaxPayload
	}
	isV4A := cfg.SigningAlgorithm == SigV4A
	region := cfg.Region
	if region == "" {
		r, err := awscreds.Region(isV4A, profileOf(cfg.CredentialProvider))
		if err != nil {
			return nil, fmt.Errorf("aws_request_signing.region: %w", err)
		}
		region = r
	}
	if isV4A {
		for _, r := range strings.Split(region, ",") {
			s.regionSet = append(s.regionSet, strings.TrimSpace(r))
		}
		s.v4a = sigv4a.New()
	} else {
		s.region = region
	}
	for i := range cfg.MatchExcludedHeaders {
		s.excluded = append(s.excluded, cfg.MatchExcludedHeaders[i].Compile())
	}
	s.creds = awscreds.New(cfg.CredentialProvider, awscreds.Options{Region: region, Root: root})
	s.signingAdded, s.signingFailed = sc.Counter("signing_added"), sc.Counter("signing_failed")
	s.payloadAdded, s.payloadFailed = sc.Counter("payload_signing_added"), sc.Counter("payload_signing_failed")
	return s, nil
}

// profileOf is the credentials file profile a config names, for the
// region lookup.
func profileOf(c *awscreds.Config) string {
	if c != nil && c.CredentialsFileProvider != nil {
		return c.CredentialsFileProvider.Profile
	}
	return ""
}

// sign adds the signature to r: Authorization, X-Amz-Date,
// X-Amz-Security-Token (and X-Amz-Region-Set for SigV4A), or with
// query_string the X-Amz-* query parameters of a presigned URL. The
// excluded headers are hidden from the signer by signing a copy without
// them.
func (s *signer) sign(ctx context.Context, r *http.Request, creds aws.Credentials, hash string, t time.Time) error {
	c := r.Clone(ctx)
	c.Header = make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		if !s.isExcluded(k) {
			c.Header[k] = vs
		}
	}
	presign := s.cfg.QueryString != nil
	if presign {
		q := c.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(s.cfg.QueryString.expiration()/time.Second)))
		c.URL.RawQuery = q.Encode()
	}
	if s.v4a != nil {
		return s.signV4A(r, c, creds, hash, t)
	}
	// Content-Length travels in ContentLength; the SDK signs it from there.
	c.Header.Del("Content-Length")
	if presign {
		u, _, err := s.v4.PresignHTTP(ctx, creds, c, hash, s.cfg.ServiceName, s.region, t)
		if err != nil {
			return err
		}
		return setURL(r, u)
	}
	if err := s.v4.SignHTTP(ctx, creds, c, hash, s.cfg.ServiceName, s.region, t); err != nil {
		return err
	}
	copyHeaders(r, c, "Authorization", "X-Amz-Date", "X-Amz-Security-Token")
	return nil
}

// signV4A signs with smithy-go's public SigV4A signer (aws-http-auth);
// it signs the headers it is given, so the copy holds only those to sign.
func (s *signer) signV4A(r, c *http.Request, creds aws.Credentials, hash string, t time.Time) error {
	payload := []byte(unsignedPayload)
	if hash != unsignedPayload {
		b, err := hex.DecodeString(hash)
		if err != nil {
			return err
		}
		payload = b
	}
	for _, h := range []string{"User-Agent", "Expect", "Transfer-Encoding"} {
		c.Header.Del(h) // left unsigned, as by aws-sdk-go-v2's SigV4 signer
	}
	if c.Host != "" {
		c.Header.Set("Host", c.Host)
	}
	in := &sigv4a.SignRequestInput{Request: c, PayloadHash: payload, Service: s.cfg.ServiceName, RegionSet: s.regionSet, Time: t,
		Credentials: smithycreds.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}}
	if s.cfg.QueryString != nil {
		in.SignatureType = smithyv4.SignatureTypeQueryString
	}
	if err := s.v4a.SignRequest(in, func(o *smithyv4.SignerOptions) { o.HeaderRules = signAll{} }); err != nil {
		return err
	}
	if s.cfg.QueryString != nil {
		r.URL.RawQuery = c.URL.RawQuery
		r.RequestURI = r.URL.RequestURI()
		return nil
	}
	copyHeaders(r, c, "Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Region-Set")
	return nil
}

// signAll signs every header of the copy (the filter already left out
// what must not be signed).
type signAll struct{}

func (signAll) IsSigned(string) bool { return true }

func copyHeaders(dst, src *http.Request, names ...string) {
	for _, h := range names {
		if v := src.Header.Get(h); v != "" {
			dst.Header.Set(h, v)
		}
	}
}

// setURL moves the presigned URL's query onto r.
func setURL(r *http.Request, signed string) error {
	u, err := url.Parse(signed)
	if err != nil {
		return err
	}
	r.URL.RawQuery = u.RawQuery
	r.RequestURI = r.URL.RequestURI()
	return nil
}

// isExcluded reports whether header k stays out of the signature.
func (s *signer) isExcluded(k string) bool {
	lk := strings.ToLower(k)
	for _, a := range alwaysExcluded {
		if a == lk {
			return true
		}
	}
	for _, m := range s.excluded {
		if m.Match(lk) {
			return true
		}
	}
	return false
}
