// Package awscreds finds AWS credentials for the AWS HTTP filters the way
// Envoy's credential_provider does (AwsCredentialProvider): inline keys,
// or a chain of the environment, the shared credentials file,
// AssumeRoleWithWebIdentity, the ECS/EKS container endpoint and EC2
// instance metadata (IMDSv2). The fetching and parsing are aws-sdk-go-v2's
// (config, stscreds, endpointcreds, ec2rolecreds); this package composes
// the chain Envoy's way and caches what the slow providers return,
// refreshing it in the background so that a request never waits on a
// refresh (see fetched).
package awscreds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sluice-proxy/sluice/stats"
)

// Provider is a built chain; safe for concurrent use.
type Provider struct {
	chain []source
}

// ErrNoCredentials is returned when no source of the chain has any.
var ErrNoCredentials = errors.New("no AWS credentials from any provider of the chain")

// Get returns the first credentials the chain has. Cheap sources are read
// per request; fetched ones come from their cache.
func (p *Provider) Get(ctx context.Context) (aws.Credentials, error) {
	var errs []string
	for _, s := range p.chain {
		c, err := s.get(ctx)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errNone) {
			errs = append(errs, s.name()+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		return aws.Credentials{}, fmt.Errorf("%w (%s)", ErrNoCredentials, strings.Join(errs, "; "))
	}
	return aws.Credentials{}, ErrNoCredentials
}

// Sources names the chain's links in order (for logs and tests).
func (p *Provider) Sources() []string {
	out := make([]string, len(p.chain))
	for i, s := range p.chain {
		out[i] = s.name()
	}
	return out
}

// Wait returns when no background fetch is running.
func (p *Provider) Wait() {
	for _, s := range p.chain {
		if f, ok := s.(*fetched); ok {
			f.wait()
		}
	}
}

// Static returns a provider of fixed keys.
func Static(c aws.Credentials) *Provider { return &Provider{chain: []source{static{c}}} }

// Options are what New needs besides the config.
type Options struct {
	// Region is the filter's (STS is regional); "" or a SigV4A set with
	// a wildcard uses STS's global endpoint region, us-east-1.
	Region string
	// Root, when set, holds Envoy's aws.metadata_credentials_provider.*
	// stats of the fetched providers.
	Root *stats.Scope
	// Profile overrides AWS_PROFILE for the credentials file (aws_lambda's
	// credentials_profile).
	Profile string
}

// New builds the chain cfg describes (nil: Envoy's default chain). The
// environment variables that switch providers on (AWS_WEB_IDENTITY_TOKEN_FILE,
// AWS_CONTAINER_CREDENTIALS_*_URI, AWS_EC2_METADATA_DISABLED) are read here,
// once, as Envoy reads them when it builds the chain.
func New(cfg *Config, o Options) *Provider {
	if cfg != nil && cfg.InlineCredential != nil {
		in := cfg.InlineCredential
		return Static(aws.Credentials{AccessKeyID: in.AccessKeyID, SecretAccessKey: in.SecretAccessKey, SessionToken: in.SessionToken, Source: "inline_credential"})
	}
	if cfg == nil {
		cfg = &Config{}
	}
	custom := cfg.CustomCredentialProviderChain
	p := &Provider{}
	if !custom || cfg.EnvironmentCredentialProvider != nil {
		p.chain = append(p.chain, environment{})
	}
	if !custom || cfg.CredentialsFileProvider != nil {
		f := &file{profile: o.Profile}
		if fp := cfg.CredentialsFileProvider; fp != nil {
			if fp.CredentialsDataSource != nil {
				f.path = fp.CredentialsDataSource.Filename
			}
			if fp.Profile != "" {
				f.profile = fp.Profile
			}
		}
		p.chain = append(p.chain, f)
	}
	if s := webIdentity(cfg.AssumeRoleWithWebIdentityProvider, custom, o); s != nil {
		p.chain = append(p.chain, s)
	}
	full, rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
	container := (full != "" || rel != "") && (!custom || cfg.ContainerCredentialProvider != nil)
	if container {
		p.chain = append(p.chain, containerSource(full, rel, o.Root))
	}
	imdsOff := strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true")
	if (custom && cfg.InstanceProfileCredentialProvider != nil) || (!custom && !container && !imdsOff) {
		p.chain = append(p.chain, instanceProfile(o.Root))
	}
	return p
}

// webIdentity is STS AssumeRoleWithWebIdentity from the config, else (in
// the default chain) from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN.
func webIdentity(w *WebIdentity, custom bool, o Options) source {
	var token stscreds.IdentityTokenRetriever
	var role, session string
	switch {
	case w != nil:
		role, session = w.RoleArn, w.RoleSessionName
		if ds := w.WebIdentityTokenDataSource; ds.Filename != "" {
			token = stscreds.IdentityTokenFile(ds.Filename) // read on every fetch
		} else {
			token = inlineToken(ds.InlineString)
		}
	case !custom && os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != "" && os.Getenv("AWS_ROLE_ARN") != "":
		token = stscreds.IdentityTokenFile(os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"))
		role, session = os.Getenv("AWS_ROLE_ARN"), os.Getenv("AWS_ROLE_SESSION_NAME")
	default:
		return nil
	}
	region := strings.TrimSpace(strings.Split(o.Region, ",")[0])
	if region == "" || strings.Contains(region, "*") {
		region = "us-east-1"
	}
	stsOpts := sts.Options{Region: region, RetryMaxAttempts: 1}
	if ep := endpointURL("STS"); ep != "" {
		stsOpts.BaseEndpoint = aws.String(ep)
	}
	if session == "" {
		session = fmt.Sprint(time.Now().UnixMicro()) // Envoy's default: a timestamp
	}
	prov := stscreds.NewWebIdentityRoleProvider(sts.New(stsOpts), role, token, func(wo *stscreds.WebIdentityRoleOptions) {
		wo.RoleSessionName = session
	})
	return counted(newFetched("assume_role_with_web_identity", prov), o.Root, "sts_token_service_internal-"+region)
}

// inlineToken is a web identity token given inline.
type inlineToken string

// GetIdentityToken returns the token.
func (t inlineToken) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

// endpointURL is the SDK's service endpoint override
// (AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL).
func endpointURL(service string) string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// containerSource is the ECS task (or EKS Pod Identity) credentials
// endpoint; the authorization token is read from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE on every fetch (EKS rotates it),
// else AWS_CONTAINER_AUTHORIZATION_TOKEN.
func containerSource(full, rel string, root *stats.Scope) source {
	ep := full
	if ep == "" {
		ep = "http://169.254.170.2" + rel
	}
	prov := endpointcreds.New(ep, func(eo *endpointcreds.Options) {
		eo.Retryer = aws.NopRetryer{}
		if file := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
			eo.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				return strings.TrimSpace(string(b)), err
			})
		} else {
			eo.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		}
	})
	return counted(newFetched("container", prov), root, "ecs_task_metadata_server_internal")
}

// instanceProfile is EC2 instance metadata, IMDSv2 (a session token first,
// then the role's credentials); AWS_EC2_METADATA_SERVICE_ENDPOINT moves
// the endpoint, as in the SDKs.
func instanceProfile(root *stats.Scope) source {
	io := imds.Options{Retryer: aws.NopRetryer{}}
	if ep := os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"); ep != "" {
		io.Endpoint = ep
	}
	prov := ec2rolecreds.New(func(eo *ec2rolecreds.Options) { eo.Client = imds.New(io) })
	return counted(newFetched("instance_profile", prov), root, "ec2_instance_metadata_server_internal")
}

// counted wires Envoy's aws.metadata_credentials_provider.<cluster>.*
// stats to a fetched source.
func counted(f *fetched, root *stats.Scope, cluster string) *fetched {
	if root == nil {
		return f
	}
	sc := root.Sub("aws").Sub("metadata_credentials_provider").Sub(cluster)
	performed, failed, succeeded := sc.Counter("credential_refreshes_performed"), sc.Counter("credential_refreshes_failed"), sc.Counter("credential_refreshes_succeeded")
	state := sc.Gauge("metadata_refresh_state")
	f.onResult = func(ok bool) {
		performed.Inc()
		if ok {
			succeeded.Inc()
			state.Set(1)
		} else {
			failed.Inc()
		}
	}
	return f
}
