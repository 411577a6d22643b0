package awscreds

import (
	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's AwsCredentialProvider (envoy.extensions.common.aws.v3):
// where a filter's AWS credentials come from. Unset, the default chain is
// used (environment, credentials file, web identity, ECS container, EC2
// instance profile).
type Config struct {
	// InlineCredential, when set, is the only source.
	InlineCredential *Inline `yaml:"inline_credential" json:"inline_credential,omitempty"`
	// CredentialsFileProvider overrides the credentials file and profile.
	CredentialsFileProvider *File `yaml:"credentials_file_provider" json:"credentials_file_provider,omitempty"`
	// AssumeRoleWithWebIdentityProvider overrides (or, in a custom chain,
	// adds) STS AssumeRoleWithWebIdentity.
	AssumeRoleWithWebIdentityProvider *WebIdentity `yaml:"assume_role_with_web_identity_provider" json:"assume_role_with_web_identity_provider,omitempty"`
	// CustomCredentialProviderChain makes the chain only the providers set
	// here instead of modifying the default chain.
	CustomCredentialProviderChain bool `yaml:"custom_credential_provider_chain" json:"custom_credential_provider_chain,omitempty"`
	// EnvironmentCredentialProvider adds the environment to a custom chain.
	EnvironmentCredentialProvider *struct{} `yaml:"environment_credential_provider" json:"environment_credential_provider,omitempty"`
	// ContainerCredentialProvider adds the ECS/EKS container endpoint to a
	// custom chain.
	ContainerCredentialProvider *struct{} `yaml:"container_credential_provider" json:"container_credential_provider,omitempty"`
	// InstanceProfileCredentialProvider adds EC2 IMDSv2 to a custom chain.
	InstanceProfileCredentialProvider *struct{} `yaml:"instance_profile_credential_provider" json:"instance_profile_credential_provider,omitempty"`
}

// Inline is Envoy's InlineCredentialProvider.
type Inline struct {
	AccessKeyID     string `yaml:"access_key_id" json:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" json:"secret_access_key"`
	SessionToken    string `yaml:"session_token" json:"session_token,omitempty"`
}

// File is Envoy's CredentialsFileCredentialProvider.
type File struct {
	// CredentialsDataSource names the file (only filename: the SDK parses
	// files); unset, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
	CredentialsDataSource *config.DataSource `yaml:"credentials_data_source" json:"credentials_data_source,omitempty"`
	// Profile is the file's profile; unset, AWS_PROFILE or "default".
	Profile string `yaml:"profile" json:"profile,omitempty"`
}

// WebIdentity is Envoy's AssumeRoleWithWebIdentityCredentialProvider.
type WebIdentity struct {
	// WebIdentityTokenDataSource holds the token: a file (re-read on every
	// fetch, as Kubernetes rotates it) or an inline string.
	WebIdentityTokenDataSource *config.DataSource `yaml:"web_identity_token_data_source" json:"web_identity_token_data_source"`
	// RoleArn is the role to assume.
	RoleArn string `yaml:"role_arn" json:"role_arn"`
	// RoleSessionName names the session (default: a timestamp, as Envoy).
	RoleSessionName string `yaml:"role_session_name" json:"role_session_name,omitempty"`
}

// Validate records what the providers need.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c == nil {
		return
	}
	if in := c.InlineCredential; in != nil && (in.AccessKeyID == "" || in.SecretAccessKey == "") {
		errs.Add(config.Join(path, "inline_credential"), "access_key_id and secret_access_key are required")
	}
	if f := c.CredentialsFileProvider; f != nil && f.CredentialsDataSource != nil {
		ds := f.CredentialsDataSource
		if ds.Filename == "" || ds.InlineString != "" || len(ds.InlineBytes) > 0 || ds.EnvironmentVariable != "" {
			errs.Add(config.Join(config.Join(path, "credentials_file_provider"), "credentials_data_source"),
				"only filename is supported (the file is parsed by the AWS SDK and re-read when it changes)")
		}
	}
	if w := c.AssumeRoleWithWebIdentityProvider; w != nil {
		p := config.Join(path, "assume_role_with_web_identity_provider")
		if w.RoleArn == "" {
			errs.Add(config.Join(p, "role_arn"), "required")
		}
		if ds := w.WebIdentityTokenDataSource; ds == nil || (ds.Filename == "") == (ds.InlineString == "") || len(ds.InlineBytes) > 0 || ds.EnvironmentVariable != "" {
			errs.Add(config.Join(p, "web_identity_token_data_source"), "set exactly one of filename, inline_string")
		}
	}
	if c.CustomCredentialProviderChain && c.InlineCredential == nil && c.CredentialsFileProvider == nil &&
		c.AssumeRoleWithWebIdentityProvider == nil && c.EnvironmentCredentialProvider == nil &&
		c.ContainerCredentialProvider == nil && c.InstanceProfileCredentialProvider == nil {
		errs.Add(config.Join(path, "custom_credential_provider_chain"), "a custom chain needs at least one provider")
	}
}
