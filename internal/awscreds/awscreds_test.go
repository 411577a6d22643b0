package awscreds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clean empties every variable the chain looks at, so the host's own
// configuration cannot leak into a test.
func clean(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "absent"))
}

// TestInstanceProfile: with nothing in the environment or the file, the
// default chain ends at EC2 instance metadata; AWS's own
// amazon-ec2-metadata-mock serves IMDSv2 (token first), and the
// credentials come from it. With the mock gone, the cached credentials
// keep signing and a refresh that fails is counted, not waited on.
func TestInstanceProfile(t *testing.T) {
	clean(t)
	exp := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	m := testenv.IMDSMock(t, testenv.IMDSCredentials{Role: "proxy-role", AccessKeyID: "AKIDIMDS", SecretAccessKey: "imds-secret", Token: "imds-token", Expiration: exp})
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", m.Endpoint())
	st := stats.New()
	p := New(nil, Options{Region: "us-east-1", Root: st.Root()})
	if got := p.Sources(); !reflect.DeepEqual(got, []string{"environment", "credentials_file", "instance_profile"}) {
		t.Fatalf("chain %v", got)
	}
	c, err := p.Get(context.Background())
	if err != nil || c.AccessKeyID != "AKIDIMDS" || c.SecretAccessKey != "imds-secret" || c.SessionToken != "imds-token" || !c.CanExpire {
		t.Fatalf("got %+v, %v", c, err)
	}
	pre := "aws.metadata_credentials_provider.ec2_instance_metadata_server_internal."
	if v, _ := st.CounterValue(pre + "credential_refreshes_succeeded"); v != 1 {
		t.Fatalf("succeeded %d", v)
	}
	if v, _ := st.GaugeValue(pre + "metadata_refresh_state"); v != 1 {
		t.Fatalf("metadata_refresh_state %d", v)
	}

	// The metadata service goes away and a refresh falls due: the request
	// still signs with the cached keys, the refresh runs in the background
	// and fails.
	m.Stop()
	defer setVar(&refreshBefore, 24*time.Hour)()
	c, err = p.Get(context.Background())
	if err != nil || c.AccessKeyID != "AKIDIMDS" {
		t.Fatalf("cached: %+v, %v", c, err)
	}
	p.Wait()
	if v, _ := st.CounterValue(pre + "credential_refreshes_failed"); v != 1 {
		t.Fatalf("failed %d", v)
	}
	if c, err = p.Get(context.Background()); err != nil || c.AccessKeyID != "AKIDIMDS" {
		t.Fatalf("after a failed refresh: %+v, %v", c, err)
	}
}

func setVar[T any](v *T, to T) func() {
	old := *v
	*v = to
	return func() { *v = old }
}

// blackhole accepts connections and never answers: a metadata endpoint
// that hangs.
func blackhole(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestRefreshNeverBlocks: a refresh that hangs does not hold a request
// up while cached credentials are valid; with nothing usable cached a
// request waits at most waitBound and goes on without credentials.
func TestRefreshNeverBlocks(t *testing.T) {
	clean(t)
	defer setVar(&fetchTimeout, 3*time.Second)()
	defer setVar(&waitBound, 50*time.Millisecond)()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", blackhole(t))
	p := New(&Config{CustomCredentialProviderChain: true, InstanceProfileCredentialProvider: &struct{}{}}, Options{})
	f := p.chain[0].(*fetched)
	// Nothing cached, the fetch hangs: the request gets an error once the
	// bound passes, while the fetch is still running.
	_, err := p.Get(context.Background())
	f.mu.Lock()
	running := f.inflight != nil
	f.mu.Unlock()
	if !errors.Is(err, ErrNoCredentials) || !running {
		t.Fatalf("err %v, fetch running %v", err, running)
	}
	p.Wait()

	// Cached and due for refresh: the request returns the cached keys
	// while the (hanging) refresh is in flight.
	f.mu.Lock()
	f.cur, f.have, f.nextTry = aws.Credentials{AccessKeyID: "CACHED", SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(time.Minute)}, true, time.Time{}
	f.mu.Unlock()
	c, err := p.Get(context.Background())
	f.mu.Lock()
	running = f.inflight != nil
	f.mu.Unlock()
	if err != nil || c.AccessKeyID != "CACHED" || !running {
		t.Fatalf("got %+v %v, refresh running %v", c, err, running)
	}
	p.Wait()
}

// TestContainer: the ECS/EKS container endpoint with its authorization
// token read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE on each fetch.
// There is no ECS agent or EKS Pod Identity agent to run here, so the
// endpoint is a Go server answering the documented JSON
// (AccessKeyId, SecretAccessKey, Token, Expiration) and checking the token.
func TestContainer(t *testing.T) {
	clean(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("pod-token-1\n"), 0o600)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v2/credentials/task" || r.Header.Get("Authorization") != "pod-token-1" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"code": "Unauthorized", "message": "bad token " + r.Header.Get("Authorization")})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": "AKIDECS", "SecretAccessKey": "ecs-secret", "Token": "ecs-token",
			"Expiration": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)})
	}))
	defer srv.Close()
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+"/v2/credentials/task")
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile)
	st := stats.New()
	p := New(nil, Options{Root: st.Root()})
	if got := p.Sources(); !reflect.DeepEqual(got, []string{"environment", "credentials_file", "container"}) {
		t.Fatalf("chain %v (a container endpoint replaces instance metadata)", got)
	}
	c, err := p.Get(context.Background())
	if err != nil || c.AccessKeyID != "AKIDECS" || c.SessionToken != "ecs-token" {
		t.Fatalf("got %+v, %v", c, err)
	}
	// Cached: a second request makes no call.
	p.Get(context.Background())
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls", n)
	}
	if v, _ := st.CounterValue("aws.metadata_credentials_provider.ecs_task_metadata_server_internal.credential_refreshes_succeeded"); v != 1 {
		t.Fatalf("succeeded %d", v)
	}
}

// TestWebIdentity: AssumeRoleWithWebIdentity with the token from a file and
// the role from the config. No STS runs here (no local implementation is
// packaged), so the endpoint is a Go server answering the STS query
// protocol's XML and checking the form the SDK sent.
func TestWebIdentity(t *testing.T) {
	clean(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("jwt-1"), 0o600)
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got.Store(r.PostForm.Encode())
		if r.PostForm.Get("Action") != "AssumeRoleWithWebIdentity" || r.PostForm.Get("WebIdentityToken") != "jwt-1" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/proxy/%s</Arn><AssumedRoleId>AROA:%[1]s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>AKIDSTS</AccessKeyId><Expiration>%s</Expiration><SecretAccessKey>sts-secret</SecretAccessKey><SessionToken>sts-token</SessionToken></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
			r.PostForm.Get("RoleSessionName"), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg := &Config{AssumeRoleWithWebIdentityProvider: &WebIdentity{RoleArn: "arn:aws:iam::123456789012:role/proxy", RoleSessionName: "sluice",
		WebIdentityTokenDataSource: &config.DataSource{Filename: tokenFile}}}
	st := stats.New()
	p := New(cfg, Options{Region: "eu-west-1", Root: st.Root()})
	if s := p.Sources(); !reflect.DeepEqual(s, []string{"environment", "credentials_file", "assume_role_with_web_identity"}) {
		t.Fatalf("chain %v", s)
	}
	c, err := p.Get(context.Background())
	if err != nil || c.AccessKeyID != "AKIDSTS" || c.SessionToken != "sts-token" {
		t.Fatalf("got %+v, %v (STS saw %v)", c, err, got.Load())
	}
	if form := got.Load().(string); !strings.Contains(form, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fproxy") || !strings.Contains(form, "RoleSessionName=sluice") {
		t.Fatalf("form %s", form)
	}
	if v, _ := st.CounterValue("aws.metadata_credentials_provider.sts_token_service_internal-eu-west-1.credential_refreshes_succeeded"); v != 1 {
		t.Fatalf("succeeded %d", v)
	}
}

// TestChainOrder: the environment wins over the file; a custom chain has
// only what is configured; inline credentials are the only source.
func TestChainOrder(t *testing.T) {
	clean(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, []byte("[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = d\n[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = o\n"), 0o600)
	fileCfg := &File{CredentialsDataSource: &config.DataSource{Filename: file}, Profile: "ops"}

	get := func(p *Provider) string {
		c, err := p.Get(context.Background())
		if err != nil {
			return err.Error()
		}
		return c.AccessKeyID
	}
	if got := get(New(&Config{CredentialsFileProvider: fileCfg}, Options{})); got != "AKIDOPS" {
		t.Fatalf("file provider: %s", got)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "e")
	if got := get(New(&Config{CredentialsFileProvider: fileCfg}, Options{})); got != "AKIDENV" {
		t.Fatalf("default chain with the environment set: %s", got)
	}
	custom := New(&Config{CustomCredentialProviderChain: true, CredentialsFileProvider: fileCfg}, Options{})
	if got := get(custom); got != "AKIDOPS" || !reflect.DeepEqual(custom.Sources(), []string{"credentials_file"}) {
		t.Fatalf("custom chain: %s %v", got, custom.Sources())
	}
	in := New(&Config{InlineCredential: &Inline{AccessKeyID: "AKIDINLINE", SecretAccessKey: "i"}, CredentialsFileProvider: fileCfg}, Options{})
	if got := get(in); got != "AKIDINLINE" {
		t.Fatalf("inline: %s", got)
	}
	// aws_lambda's credentials_profile picks the profile of the default file.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
	if got := get(New(nil, Options{Profile: "ops"})); got != "AKIDOPS" {
		t.Fatalf("profile option: %s", got)
	}
	if got := get(New(&Config{CustomCredentialProviderChain: true, EnvironmentCredentialProvider: &struct{}{}}, Options{})); !strings.Contains(got, "no AWS credentials") {
		t.Fatalf("empty environment: %s", got)
	}
}

// TestConfigErrors: what a provider needs is checked with its path.
func TestConfigErrors(t *testing.T) {
	errs := &config.Errors{}
	(&Config{InlineCredential: &Inline{AccessKeyID: "a"}, CustomCredentialProviderChain: true,
		CredentialsFileProvider:           &File{CredentialsDataSource: &config.DataSource{InlineString: "[default]"}},
		AssumeRoleWithWebIdentityProvider: &WebIdentity{}}).Validate("f.credential_provider", errs)
	err := errs.Err()
	for _, want := range []string{"f.credential_provider.inline_credential", "credentials_file_provider.credentials_data_source",
		"assume_role_with_web_identity_provider.role_arn", "assume_role_with_web_identity_provider.web_identity_token_data_source"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v does not name %s", err, want)
		}
	}
}

// TestRegion: an unset region comes from AWS_REGION, AWS_DEFAULT_REGION
// (AWS_SIGV4A_SIGNING_REGION_SET first for SigV4A), then the profile in the
// credentials file, then the config file.
func TestRegion(t *testing.T) {
	clean(t)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	if _, err := Region(false, ""); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("nothing set: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config"), []byte("[default]\nregion = ap-south-1\n[profile ops]\nregion = sa-east-1\n"), 0o600)
	if r, _ := Region(false, ""); r != "ap-south-1" {
		t.Fatalf("config file default profile: %q", r)
	}
	t.Setenv("AWS_PROFILE", "ops")
	if r, _ := Region(false, ""); r != "sa-east-1" {
		t.Fatalf("config file AWS_PROFILE: %q", r)
	}
	creds := filepath.Join(dir, "credentials")
	os.WriteFile(creds, []byte("[ops]\naws_access_key_id = a\naws_secret_access_key = b\nregion = eu-north-1\n"), 0o600)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	if r, _ := Region(false, ""); r != "eu-north-1" {
		t.Fatalf("credentials file before config file: %q", r)
	}
	t.Setenv("AWS_DEFAULT_REGION", "us-west-1")
	if r, _ := Region(false, ""); r != "us-west-1" {
		t.Fatalf("AWS_DEFAULT_REGION: %q", r)
	}
	t.Setenv("AWS_REGION", "us-east-2")
	t.Setenv("AWS_SIGV4A_SIGNING_REGION_SET", "us-east-*,eu-west-1")
	if r, _ := Region(false, ""); r != "us-east-2" {
		t.Fatalf("AWS_REGION: %q", r)
	}
	if r, _ := Region(true, ""); r != "us-east-*,eu-west-1" {
		t.Fatalf("SigV4A region set: %q", r)
	}
}

// TestRefreshBeforeExpiry: credentials within refreshBefore of their
// expiry are still served while a background fetch replaces them; the next
// request gets the new ones.
func TestRefreshBeforeExpiry(t *testing.T) {
	clean(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": fmt.Sprintf("AKIDGEN%d", n), "SecretAccessKey": "s", "Token": "t",
			"Expiration": time.Now().Add(2 * time.Minute).UTC().Format(time.RFC3339)}) // inside the 5-minute window
	}))
	defer srv.Close()
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL)
	p := New(&Config{CustomCredentialProviderChain: true, ContainerCredentialProvider: &struct{}{}}, Options{})
	c, err := p.Get(context.Background())
	if err != nil || c.AccessKeyID != "AKIDGEN1" {
		t.Fatalf("first: %+v %v", c, err)
	}
	// Due for refresh but valid: served as is, refresh started.
	if c, _ = p.Get(context.Background()); c.AccessKeyID != "AKIDGEN1" {
		t.Fatalf("second: %s", c.AccessKeyID)
	}
	p.Wait()
	if c, _ = p.Get(context.Background()); c.AccessKeyID != "AKIDGEN2" {
		t.Fatalf("after the refresh: %s", c.AccessKeyID)
	}
	p.Wait()
}
