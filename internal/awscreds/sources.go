package awscreds

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

// errNone is a source that has no credentials to offer (not an error of
// the source: the chain moves on).
var errNone = errors.New("no credentials")

// source is one link of the chain.
type source interface {
	get(ctx context.Context) (aws.Credentials, error)
	name() string
}

// static is inline_credential.
type static struct{ c aws.Credentials }

func (s static) get(context.Context) (aws.Credentials, error) { return s.c, nil }
func (static) name() string                                   { return "inline_credential" }

// environment reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN on every request, so a changed environment is used at
// once (it costs three lookups).
type environment struct{}

func (environment) get(context.Context) (aws.Credentials, error) {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Credentials{}, errNone
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}, nil
}
func (environment) name() string { return "environment" }

// file is the shared credentials file. Its path and profile are the
// configured ones, else AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
// and AWS_PROFILE ("default"), looked up per request; the file is stat'ed
// per request and parsed again (by the SDK) only when its path, size or
// modification time change, so a rotated file is used from the next
// request on.
type file struct {
	path, profile string // configured; "" = from the environment

	mu     sync.Mutex
	key    fileKey
	cached aws.Credentials
	err    error
}

type fileKey struct {
	path, profile string
	size          int64
	mtime         time.Time
}

func (f *file) name() string { return "credentials_file" }

func (f *file) get(ctx context.Context) (aws.Credentials, error) {
	path := f.path
	if path == "" {
		path = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return aws.Credentials{}, errNone
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	profile := profileName(f.profile)
	fi, err := os.Stat(path)
	if err != nil {
		return aws.Credentials{}, errNone
	}
	k := fileKey{path: path, profile: profile, size: fi.Size(), mtime: fi.ModTime()}
	f.mu.Lock()
	defer f.mu.Unlock()
	if k == f.key {
		return f.cached, f.err
	}
	f.key = k
	sc, err := awsconfig.LoadSharedConfigProfile(ctx, profile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{path}
		o.ConfigFiles = []string{}
	})
	switch {
	case err != nil:
		f.cached, f.err = aws.Credentials{}, errNone
	case !sc.Credentials.HasKeys():
		f.cached, f.err = aws.Credentials{}, errNone
	default:
		f.cached, f.err = sc.Credentials, nil
		f.cached.Source = "credentials file " + path
	}
	return f.cached, f.err
}

// profileName is the configured profile, else AWS_PROFILE, else "default".
func profileName(configured string) string {
	if configured != "" {
		return configured
	}
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}
