package awssigning

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Credentials finds credentials the way Envoy's default chain starts: the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
// ~/.aws/credentials) under AWS_PROFILE (default "default"). Both are
// looked at on every request, so a rotated key or a rewritten file is used
// from the next request on; the file is parsed again only when its path,
// size or modification time change. Parsing is the SDK's.
type Credentials struct {
	// Static, when set, is used instead of looking anywhere (aws_lambda's
	// inline credentials).
	Static *aws.Credentials
	// Profile, when set, overrides AWS_PROFILE (aws_lambda's
	// credentials_profile).
	Profile string

	mu      sync.Mutex
	key     fileKey
	profile string
	cached  aws.Credentials
	err     error
}

type fileKey struct {
	path  string
	size  int64
	mtime time.Time
}

var errNoCredentials = errors.New("no AWS credentials in the environment or the shared credentials file")

// Get returns the current credentials.
func (s *Credentials) Get(ctx context.Context) (aws.Credentials, error) {
	if s.Static != nil {
		return *s.Static, nil
	}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}, nil
	}
	path := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return aws.Credentials{}, errNoCredentials
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	profile := s.Profile
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	fi, err := os.Stat(path)
	if err != nil {
		return aws.Credentials{}, errNoCredentials
	}
	k := fileKey{path: path, size: fi.Size(), mtime: fi.ModTime()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == s.key && profile == s.profile {
		return s.cached, s.err
	}
	s.key, s.profile = k, profile
	sc, err := awsconfig.LoadSharedConfigProfile(ctx, profile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{path}
		o.ConfigFiles = []string{}
	})
	switch {
	case err != nil:
		s.cached, s.err = aws.Credentials{}, err
	case !sc.Credentials.HasKeys():
		s.cached, s.err = aws.Credentials{}, errNoCredentials
	default:
		s.cached, s.err = sc.Credentials, nil
		s.cached.Source = "shared credentials file"
	}
	return s.cached, s.err
}
