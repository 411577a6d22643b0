// Package awslambda is Envoy's envoy.filters.http.aws_lambda: it turns an
// HTTP request into an invocation of a Lambda function (POST
// /2015-03-31/functions/<arn>/invocations, signed with SigV4 for the
// "lambda" service in the ARN's region) and the function's answer back
// into an HTTP response. The request is carried either as Envoy's JSON
// envelope (method, path, headers, query, body, base64 when binary) or, with
// payload_passthrough, as the raw body. Signing is aws-sdk-go-v2's; the
// credentials come from internal/awscreds (inline, else Envoy's default
// chain with credentials_profile choosing the file's profile).
package awslambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/internal/awscreds"
	"github.com/sluice-proxy/sluice/stats"
)

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			sc := stats.New().Root().Sub("http")
			log := slog.Default()
			if env != nil && env.Stats != nil {
				sc = env.Stats
			}
			if env != nil && env.Log != nil {
				log = env.Log
			}
			f := &Filter{log: log, signer: v4.NewSigner(), root: sc.Store().Root()}
			sc = sc.Sub("aws_lambda")
			// Envoy's stats; a route's own config counts in the same ones.
			f.serverError, f.payloadSize = sc.Counter("server_error"), sc.Histogram("upstream_rq_payload_size")
			f.def = f.invoker(cfg.(*Config))
			f.perRoute.NewConfig = func() any { return &PerRouteConfig{InvokeConfig: NewConfig()} }
			f.perRoute.Build = func(cfg any) (*invoker, error) { return f.invoker(cfg.(*PerRouteConfig).InvokeConfig), nil }
			return f, nil
		},
	})
}

// Filter invokes the configured function (or the route's); one is shared
// by every stream.
type Filter struct {
	def         *invoker
	perRoute    httpfilter.PerRoute[*invoker]
	signer      *v4.Signer
	root        *stats.Scope
	log         *slog.Logger
	serverError *stats.Counter
	payloadSize *stats.Histogram
}

// invoker is one compiled Config.
type invoker struct {
	cfg    *Config
	region string
	path   string
	mode   string // X-Amz-Invocation-Type
	creds  *awscreds.Provider
}

func (f *Filter) invoker(c *Config) *invoker {
	in := &invoker{cfg: c, region: c.region(), path: "/2015-03-31/functions/" + c.Arn + "/invocations", mode: "RequestResponse"}
	if c.InvocationMode == "ASYNCHRONOUS" {
		in.mode = "Event"
	}
	if cr := c.Credentials; cr != nil {
		in.creds = awscreds.Static(aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey,
			SessionToken: cr.SessionToken, Source: "aws_lambda config"})
	} else {
		in.creds = awscreds.New(nil, awscreds.Options{Region: in.region, Root: f.root, Profile: c.CredentialsProfile})
	}
	return in
}

// invokerFor picks the route's own config over the filter's.
func (f *Filter) invokerFor(r *http.Request) (*invoker, error) {
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		for _, key := range []string{Name, EnvoyName} {
			if raw := st.Route.PerFilterConfig(key); raw != nil {
				return f.perRoute.Get(key, raw)
			}
		}
	}
	return f.def, nil
}

var errTooLarge = errors.New("payload over Lambda's 6 MB limit")

// Wrap returns the invoking handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := f.invokerFor(r)
		if err != nil {
			f.log.Warn("aws_lambda: route config", "err", err)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		body, err := readAll(r.Body)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, errTooLarge) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, http.StatusText(code), code)
			return
		}
		payload := body
		if !in.cfg.PayloadPassthrough {
			if payload, err = wrap(r, body); err != nil {
				http.Error(w, "Bad Request", http.StatusBadRequest)
				return
			}
		}
		host := r.Host
		if in.cfg.HostRewrite != "" {
			host = in.cfg.HostRewrite
		}
		r.Method, r.Host = http.MethodPost, host
		r.URL = &url.URL{Path: in.path}
		r.RequestURI = r.URL.RequestURI()
		r.Header = http.Header{"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {in.mode}}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(payload)), int64(len(payload))
		if err := f.sign(r, in, payload); err != nil {
			f.log.Warn("aws_lambda: invocation sent unsigned", "err", err)
		}
		f.payloadSize.Record(float64(len(payload)))
		if in.mode == "Event" {
			next.ServeHTTP(w, r) // 202 Accepted from Lambda, passed on as is
			return
		}
		buf := &buffered{header: http.Header{}}
		next.ServeHTTP(buf, r)
		f.answer(w, in, buf)
	})
}

// answer turns Lambda's response into the client's. As in Envoy, a status
// of 300 or more (Lambda's own error: throttling, a bad signature, a
// missing function) goes back unchanged, and a function's result without
// X-Amz-Function-Error is its answer, whatever fields it has. A function
// error (X-Amz-Function-Error) becomes a 500 with the error JSON as body
// and counts in server_error: the issue asks for a 5xx where Envoy passes
// Lambda's 200 on.
func (f *Filter) answer(w http.ResponseWriter, in *invoker, b *buffered) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status >= 300 || b.header.Get("X-Amz-Function-Error") != "" {
		status := b.status
		if status < 300 {
			f.serverError.Inc()
			status = http.StatusInternalServerError
			w.Header().Set("X-Amz-Function-Error", b.header.Get("X-Amz-Function-Error"))
		}
		if ct := b.header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(status)
		w.Write(b.body.Bytes())
		return
	}
	if in.cfg.PayloadPassthrough {
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.body.Bytes())
		return
	}
	if err := unwrap(w, b.body.Bytes()); err != nil {
		f.serverError.Inc()
		f.log.Debug("aws_lambda: malformed response envelope", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	}
}

func (f *Filter) sign(r *http.Request, in *invoker, payload []byte) error {
	creds, err := in.creds.Get(r.Context())
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	return f.signer.SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), "lambda", in.region, time.Now())
}

func readAll(body io.ReadCloser) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, maxPayload+1))
	if err == nil && len(b) > maxPayload {
		err = errTooLarge
	}
	return b, err
}

// buffered holds Lambda's response (bounded by maxPayload) until it is
// turned into the client's.
type buffered struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *buffered) Header() http.Header { return b.header }

func (b *buffered) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.body.Len()+len(p) > maxPayload {
		return 0, errTooLarge
	}
	return b.body.Write(p)
}
