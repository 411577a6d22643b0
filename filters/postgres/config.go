package postgres

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/tlsctx"
	"github.com/sluice-proxy/sluice/tracing"
)

// DefaultMaxSQLPrefix is how much of a Query's or Parse's SQL text is kept
// for parsing and gates when max_sql_prefix is not set.
const DefaultMaxSQLPrefix = 64 << 10

// Upstream SSL modes: Envoy's PostgresProxy.SSLMode, plus libpq's prefer.
const (
	UpstreamSSLDisable = "disable"
	UpstreamSSLRequire = "require"
	// UpstreamSSLPrefer asks the server for TLS and goes on in clear text
	// when it answers 'N'.
	UpstreamSSLPrefer = "prefer"
)

// Config is postgres_proxy's typed config, after Envoy's PostgresProxy
// message plus a PgBouncer-style route table.
type Config struct {
	// StatPrefix names the stats: postgres.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// EnableSQLParsing parses every Query and Parse with libpg_query to
	// count statements_parsed / statements_parse_error and publish the
	// tables and operations as metadata. Default true (Envoy's). A SQL gate
	// (rbac) in the chain makes the filter parse whatever this says.
	EnableSQLParsing *bool `yaml:"enable_sql_parsing" json:"enable_sql_parsing,omitempty"`
	// TerminateSSL answers the client's SSLRequest with 'S' and completes
	// TLS with TLS's certificate; the bytes are then decoded in clear.
	// Default false: a client's TLS is passed through to the server
	// untouched (counted in sessions_encrypted, not decoded).
	TerminateSSL bool `yaml:"terminate_ssl" json:"terminate_ssl,omitempty"`
	// TLS is the certificate for terminate_ssl; required with it.
	TLS *config.TLSContext `yaml:"tls" json:"tls,omitempty"`
	// UpstreamSSL is "disable" (default), "require" or "prefer": with
	// require, sluice sends an SSLRequest to the server before the client's
	// startup message and speaks TLS to it, and a server that refuses ends
	// the session; with prefer, a server that refuses gets the session in
	// clear text (counted in sessions_upstream_ssl_refused).
	UpstreamSSL string `yaml:"upstream_ssl" json:"upstream_ssl"`
	// UpstreamTLS optionally verifies the server's certificate under
	// upstream_ssl require or prefer. Without it the certificate is not
	// verified, as libpq's sslmode=require does not.
	UpstreamTLS *UpstreamTLS `yaml:"upstream_tls" json:"upstream_tls,omitempty"`
	// MaxSQLPrefix is the longest SQL text kept from a Query or Parse.
	// Longer statements count as statements_parse_error and, under a SQL
	// gate, end the connection (they cannot be checked). Default 65536.
	MaxSQLPrefix int `yaml:"max_sql_prefix" json:"max_sql_prefix"`
	// StartupTimeout bounds the startup phase that the filter reads before
	// the terminal dials (encryption requests, TLS handshake, the startup
	// message). Default 10s.
	StartupTimeout config.Duration `yaml:"startup_timeout" json:"startup_timeout"`
	// Routes pick the upstream cluster from the startup message's database
	// and user (and the TLS SNI under terminate_ssl); the first match wins.
	// No match, or no routes, leaves the terminal's own cluster.
	Routes []Route `yaml:"routes" json:"routes,omitempty"`
	// Tracing emits a span per query (sluice's; tracing.go).
	Tracing *tracing.StatementConfig `yaml:"tracing" json:"tracing,omitempty"`
}

// Route sends sessions whose startup message matches to Cluster. A matcher
// left out matches everything.
type Route struct {
	// Database and User are Envoy's string matchers (exact, prefix, suffix,
	// contains, safe_regex, ignore_case) over the startup message's
	// parameters.
	Database *router.StringMatcher `yaml:"database" json:"database,omitempty"`
	User     *router.StringMatcher `yaml:"user" json:"user,omitempty"`
	// ServerNames match the TLS SNI (terminate_ssl only) as Envoy's
	// server_names: exact names or "*.example.com" wildcards, any of them.
	ServerNames []string `yaml:"server_names" json:"server_names,omitempty"`
	Cluster     string   `yaml:"cluster" json:"cluster"`
}

// UpstreamTLS verifies the server's certificate.
type UpstreamTLS struct {
	// CAFile is a PEM bundle the server's chain must verify against.
	CAFile string `yaml:"ca_file" json:"ca_file" sluice:"path"`
	// ServerName, when set, must be in the certificate (verify-full).
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// NewConfig returns a config with Envoy's defaults.
func NewConfig() *Config {
	return &Config{
		UpstreamSSL:    UpstreamSSLDisable,
		MaxSQLPrefix:   DefaultMaxSQLPrefix,
		StartupTimeout: config.Duration(10 * time.Second),
	}
}

// parseSQL reports the effective enable_sql_parsing.
func (c *Config) parseSQL() bool { return c.EnableSQLParsing == nil || *c.EnableSQLParsing }

// UpstreamTLSPath is config.UpstreamTLSOwner: upstream_ssl speaks TLS
// inside the protocol, so the chain's cluster must not add its own.
func (c *Config) UpstreamTLSPath(path string) string {
	if c.UpstreamSSL == UpstreamSSLRequire || c.UpstreamSSL == UpstreamSSLPrefer {
		return config.Join(path, "upstream_ssl")
	}
	return ""
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.Tracing != nil {
		c.Tracing.Validate(config.Join(path, "tracing"), errs)
	}
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	switch c.UpstreamSSL {
	case UpstreamSSLDisable, UpstreamSSLRequire, UpstreamSSLPrefer:
	default:
		errs.Add(config.Join(path, "upstream_ssl"), "must be disable, prefer or require, got %q", c.UpstreamSSL)
	}
	if c.TerminateSSL && c.TLS == nil {
		errs.Add(config.Join(path, "tls"), "terminate_ssl needs tls (certificate_file and private_key_file, or common_tls_context)")
	}
	if !c.TerminateSSL && c.TLS != nil {
		errs.Add(config.Join(path, "tls"), "only used with terminate_ssl: true")
	}
	if c.UpstreamTLS != nil && c.UpstreamSSL == UpstreamSSLDisable {
		errs.Add(config.Join(path, "upstream_tls"), "only used with upstream_ssl: require or prefer")
	}
	if c.MaxSQLPrefix < 1 || c.MaxSQLPrefix > 1<<24 {
		errs.Add(config.Join(path, "max_sql_prefix"), "must be between 1 and 16777216, got %d", c.MaxSQLPrefix)
	}
	if c.StartupTimeout <= 0 {
		errs.Add(config.Join(path, "startup_timeout"), "must be positive")
	}
	for i, r := range c.Routes {
		p := config.Index(config.Join(path, "routes"), i)
		if r.Cluster == "" {
			errs.Add(config.Join(p, "cluster"), "required")
		}
		r.Database.Validate(config.Join(p, "database"), errs)
		r.User.Validate(config.Join(p, "user"), errs)
		if len(r.ServerNames) > 0 && !c.TerminateSSL {
			errs.Add(config.Join(p, "server_names"), "SNI is only known with terminate_ssl: true")
		}
	}
}

// ClusterRefs names the route clusters, for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	var out []config.ClusterRef
	for i, r := range c.Routes {
		out = append(out, config.ClusterRef{Path: config.Join(config.Index(config.Join(path, "routes"), i), "cluster"), Name: r.Cluster})
	}
	if c.Tracing != nil {
		out = append(out, c.Tracing.ClusterRefs(config.Join(path, "tracing"))...)
	}
	return out
}

// serverTLS builds the terminate_ssl context (tlsctx: every Envoy
// DownstreamTlsContext field, files re-read when they rotate).
func serverTLS(t *config.TLSContext, env *filters.Env) (*tlsctx.Server, error) {
	srv, err := tlsctx.NewServer(t, tlsctx.Options{Path: "tls", Log: env.Log, Secrets: env.Secrets})
	if err != nil {
		return nil, fmt.Errorf("postgres_proxy: %w", err)
	}
	return srv, nil
}

// clientTLS builds the config for upstream_ssl require and prefer.
func clientTLS(u *UpstreamTLS) (*tls.Config, error) {
	if u == nil || u.CAFile == "" {
		// sslmode=require semantics: encrypted, not authenticated.
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // documented: libpq's require
	}
	pool, err := loadPool(u.CAFile)
	if err != nil {
		return nil, fmt.Errorf("postgres_proxy: upstream_tls: %w", err)
	}
	tc := &tls.Config{RootCAs: pool, ServerName: u.ServerName, MinVersion: tls.VersionTLS12}
	if u.ServerName == "" {
		// verify-ca: the chain, not the name.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return tc, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s has no PEM certificates", file)
	}
	return pool, nil
}
