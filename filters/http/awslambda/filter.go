// Package awslambda is Envoy's envoy.filters.http.aws_lambda: it turns an
// HTTP request into an invocation of a Lambda function (POST
// /2015-03-31/functions/<arn>/invocations, signed with SigV4 for the
// "lambda" service in the ARN's region) and the function's answer back
// into an HTTP response. The request is carried either as Envoy's JSON
// envelope (method, path, headers, query, body, base64 when binary) or, with
// payload_passthrough, as the raw body. Signing is aws-sdk-go-v2's; the
// credentials are aws_request_signing's (environment, then the shared
// credentials file, re-read when they change).
package awslambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/filters/http/awssigning"
	"github.com/sluice-proxy/sluice/stats"
)

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			c := cfg.(*Config)
			sc := stats.New().Root().Sub("http")
			log := slog.Default()
			if env != nil && env.Stats != nil {
				sc = env.Stats
			}
			if env != nil && env.Log != nil {
				log = env.Log
			}
			sc = sc.Sub("aws_lambda")
			return &Filter{cfg: c, region: c.region(), path: "/2015-03-31/functions/" + c.Arn + "/invocations",
				signer: v4.NewSigner(), creds: credentials(c), log: log,
				serverError: sc.Counter("server_error")}, nil
		},
	})
}

// credentials returns where the filter's keys come from: inline ones, else
// the environment and the shared credentials file (with the configured
// profile).
func credentials(c *Config) *awssigning.Credentials {
	cr := &awssigning.Credentials{Profile: c.CredentialsProfile}
	if c.Credentials != nil {
		cr.Static = &aws.Credentials{AccessKeyID: c.Credentials.AccessKeyID, SecretAccessKey: c.Credentials.SecretAccessKey,
			SessionToken: c.Credentials.SessionToken, Source: "aws_lambda config"}
	}
	return cr
}

// Filter invokes the configured function; one is shared by every stream.
type Filter struct {
	cfg         *Config
	region      string
	path        string
	signer      *v4.Signer
	creds       *awssigning.Credentials
	log         *slog.Logger
	serverError *stats.Counter
}

var errTooLarge = errors.New("payload over Lambda's 6 MB limit")

// Wrap returns the invoking handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		if !f.cfg.PayloadPassthrough {
			if payload, err = wrap(r, body); err != nil {
				http.Error(w, "Bad Request", http.StatusBadRequest)
				return
			}
		}
		host := r.Host
		if f.cfg.HostRewrite != "" {
			host = f.cfg.HostRewrite
		}
		mode := "RequestResponse"
		if f.cfg.InvocationMode == "ASYNCHRONOUS" {
			mode = "Event"
		}
		r.Method, r.Host = http.MethodPost, host
		r.URL = &url.URL{Path: f.path}
		r.RequestURI = r.URL.RequestURI()
		r.Header = http.Header{"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {mode}}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(payload)), int64(len(payload))
		if err := f.sign(r, payload); err != nil {
			f.log.Warn("aws_lambda: invocation sent unsigned", "err", err)
		}
		if mode == "Event" {
			next.ServeHTTP(w, r) // 202 Accepted from Lambda, passed on as is
			return
		}
		buf := &buffered{header: http.Header{}}
		next.ServeHTTP(buf, r)
		f.answer(w, buf)
	})
}

// answer turns Lambda's response into the client's.
func (f *Filter) answer(w http.ResponseWriter, b *buffered) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status != http.StatusOK || b.header.Get("X-Amz-Function-Error") != "" || isFunctionError(b.body.Bytes()) {
		// Lambda's own error, or the function's (its error JSON as body).
		if b.status < 500 {
			f.serverError.Inc()
			b.status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(b.status)
		w.Write(b.body.Bytes())
		return
	}
	if f.cfg.PayloadPassthrough {
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

// isFunctionError recognizes the payload of a failed invocation,
// {"errorMessage": ..., "errorType": ...}, for runtimes that do not send
// X-Amz-Function-Error (the Runtime Interface Emulator does not).
func isFunctionError(payload []byte) bool {
	var e struct {
		ErrorMessage *string         `json:"errorMessage"`
		ErrorType    *string         `json:"errorType"`
		StatusCode   json.RawMessage `json:"status_code"`
	}
	return json.Unmarshal(payload, &e) == nil && e.ErrorMessage != nil && e.ErrorType != nil && e.StatusCode == nil
}

func (f *Filter) sign(r *http.Request, payload []byte) error {
	creds, err := f.creds.Get(r.Context())
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	return f.signer.SignHTTP(r.Context(), creds, r, hex.EncodeToString(sum[:]), "lambda", f.region, time.Now())
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
