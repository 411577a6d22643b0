package awscreds

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// ErrNoRegion is returned when no source names a region.
var ErrNoRegion = errors.New("no region: set region, AWS_REGION or AWS_DEFAULT_REGION, or region in the profile of ~/.aws/credentials or ~/.aws/config")

// Region finds the region of a filter whose config leaves it unset, in
// Envoy's order: AWS_REGION, AWS_DEFAULT_REGION (for SigV4A,
// AWS_SIGV4A_SIGNING_REGION_SET first), then the profile's region in the
// shared credentials file, then in the config file (AWS_CONFIG_FILE,
// default ~/.aws/config). The profile is the given one, else AWS_PROFILE,
// else "default". Files are parsed by the SDK, which does not read
// sigv4a_signing_region_set, so a SigV4A region set comes from the
// environment or is the profile's single region.
func Region(sigv4a bool, profile string) (string, error) {
	if sigv4a {
		if v := os.Getenv("AWS_SIGV4A_SIGNING_REGION_SET"); v != "" {
			return v, nil
		}
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(k); v != "" {
			return v, nil
		}
	}
	home, _ := os.UserHomeDir()
	credFile := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credFile == "" && home != "" {
		credFile = filepath.Join(home, ".aws", "credentials")
	}
	cfgFile := os.Getenv("AWS_CONFIG_FILE")
	if cfgFile == "" && home != "" {
		cfgFile = filepath.Join(home, ".aws", "config")
	}
	name := profileName(profile)
	// The credentials file first, then the config file, each on its own.
	for _, files := range []struct{ creds, cfg string }{{creds: credFile}, {cfg: cfgFile}} {
		if files.creds == "" && files.cfg == "" {
			continue
		}
		sc, err := awsconfig.LoadSharedConfigProfile(context.Background(), name, func(o *awsconfig.LoadSharedConfigOptions) {
			o.CredentialsFiles, o.ConfigFiles = nonEmpty(files.creds), nonEmpty(files.cfg)
		})
		if err == nil && sc.Region != "" {
			return sc.Region, nil
		}
	}
	return "", ErrNoRegion
}

func nonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return []string{s}
}
