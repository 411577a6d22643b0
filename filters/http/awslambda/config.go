package awslambda

import (
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Name is the filter's key in http_filters (Envoy's envoy.filters.http.aws_lambda).
const Name = "aws_lambda"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.aws_lambda"

// maxPayload is Lambda's synchronous invocation payload limit (6 MB): a
// larger request body is answered 413 without invoking.
const maxPayload = 6 << 20

// Config is Envoy's aws_lambda Config.
type Config struct {
	// Arn is the function's ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]).
	Arn string `yaml:"arn" json:"arn"`
	// PayloadPassthrough sends the body as the invocation payload instead
	// of Envoy's JSON envelope.
	PayloadPassthrough bool `yaml:"payload_passthrough" json:"payload_passthrough,omitempty"`
	// InvocationMode is SYNCHRONOUS (default; also when empty, as in a
	// nested per-route config) or ASYNCHRONOUS.
	InvocationMode string `yaml:"invocation_mode" json:"invocation_mode,omitempty"`
	// HostRewrite replaces the Host header before signing.
	HostRewrite string `yaml:"host_rewrite" json:"host_rewrite,omitempty"`
	// CredentialsProfile picks the shared credentials file's profile
	// (instead of AWS_PROFILE / "default").
	CredentialsProfile string `yaml:"credentials_profile" json:"credentials_profile,omitempty"`
	// Credentials, when set, are used instead of the environment and the file.
	Credentials *Credentials `yaml:"credentials" json:"credentials,omitempty"`
}

// Credentials are inline AWS keys (Envoy's aws_lambda Credentials).
type Credentials struct {
	AccessKeyID     string `yaml:"access_key_id" json:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" json:"secret_access_key"`
	SessionToken    string `yaml:"session_token" json:"session_token,omitempty"`
}

// PerRouteConfig is Envoy's aws_lambda PerRouteConfig: a route's own
// function (and the rest of the invocation settings).
type PerRouteConfig struct {
	InvokeConfig *Config `yaml:"invoke_config" json:"invoke_config"`
}

// Validate requires the nested config.
func (p *PerRouteConfig) Validate(path string, errs *config.Errors) {
	if p.InvokeConfig == nil {
		errs.Add(config.Join(path, "invoke_config"), "required")
	}
}

// region is the ARN's region (Validate has checked the ARN).
func (c *Config) region() string { return strings.Split(c.Arn, ":")[3] }

// NewConfig returns a config with the defaults set.
func NewConfig() *Config { return &Config{InvocationMode: "SYNCHRONOUS"} }

// Validate checks the ARN and the mode.
func (c *Config) Validate(path string, errs *config.Errors) {
	parts := strings.Split(c.Arn, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[3] == "" || parts[5] != "function" || parts[6] == "" {
		errs.Add(config.Join(path, "arn"), "not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]): %q", c.Arn)
	}
	if c.Credentials != nil && (c.Credentials.AccessKeyID == "" || c.Credentials.SecretAccessKey == "") {
		errs.Add(config.Join(path, "credentials"), "access_key_id and secret_access_key are required")
	}
	if c.InvocationMode != "" && c.InvocationMode != "SYNCHRONOUS" && c.InvocationMode != "ASYNCHRONOUS" {
		errs.Add(config.Join(path, "invocation_mode"), "SYNCHRONOUS or ASYNCHRONOUS, got %q", c.InvocationMode)
	}
}
