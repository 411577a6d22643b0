package mysql

import (
	"fmt"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tlsctx"
	"github.com/sluice-proxy/sluice/tracing"
)

// upstream_ssl values, after postgres_proxy's (Envoy's mysql_proxy has no
// upstream_ssl).
const (
	// UpstreamSSLDisable talks to the server in whatever the client chose
	// (plain text, or the client's own TLS passed through).
	UpstreamSSLDisable = "disable"
	// UpstreamSSLRequire makes sluice speak TLS to the server.
	UpstreamSSLRequire = "require"
)

// DefaultMaxSQLBytes is how much of a statement's text is kept for parsing
// when max_sql_bytes is not set.
const DefaultMaxSQLBytes = 4096

// Config is mysql_proxy's typed config, after Envoy's MySQLProxy message.
type Config struct {
	// StatPrefix names the stats: mysql.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// ParseSQL parses every COM_QUERY and COM_STMT_PREPARE with a MySQL
	// grammar to count queries_parsed / queries_parse_error and publish
	// per-statement metadata. Default true. When false, statements are only
	// classified by their first keyword (statements_* counters), unless a
	// SQL gate (rbac) is in the chain, which always needs the parse.
	ParseSQL *bool `yaml:"parse_sql" json:"parse_sql,omitempty"`
	// MaxSQLBytes is the longest statement text kept for parsing and gates;
	// longer statements count as queries_parse_error and, under a SQL gate,
	// end the connection (they cannot be checked). Default 4096.
	MaxSQLBytes int `yaml:"max_sql_bytes" json:"max_sql_bytes"`
	// TerminateSSL, when set, answers the client's SSLRequest by completing
	// TLS with this certificate and keeps decoding the plaintext; the
	// server is spoken to in plain text. Unset (default), a client's TLS is
	// passed through and decoding stops at the SSLRequest, as in Envoy.
	TerminateSSL *config.TLSContext `yaml:"terminate_ssl" json:"terminate_ssl,omitempty"`
	// UpstreamSSL is "disable" (default) or "require". With require, sluice
	// answers the server's greeting with an SSLRequest built from the
	// client's HandshakeResponse and speaks TLS to the server, whether the
	// client spoke plain text or TLS (terminate_ssl) to sluice; a server
	// whose greeting lacks CLIENT_SSL ends the session. A client whose own
	// TLS passes through (no terminate_ssl) is left alone: its TLS already
	// reaches the server.
	UpstreamSSL string `yaml:"upstream_ssl" json:"upstream_ssl"`
	// UpstreamTLS, when set, verifies the server's certificate under
	// upstream_ssl: require. Unset, the leg is encrypted but the
	// certificate is not verified, as the MySQL client's
	// --ssl-mode=REQUIRED does.
	UpstreamTLS *UpstreamTLS `yaml:"upstream_tls" json:"upstream_tls,omitempty"`
	// ParseCacheSize bounds the statement parse cache shared by the
	// filter's connections: statements of the same shape (same text but
	// for whole-number literals and comments) in the same database are
	// parsed once. Default 4096 entries; 0 parses every statement.
	ParseCacheSize int `yaml:"parse_cache_size" json:"parse_cache_size"`
	// HandshakeTimeout closes a client that has not completed the
	// connection phase (greeting, HandshakeResponse, the server's OK) this
	// long after it was accepted; counted as handshake_timeout. Default
	// 10s, MySQL's connect_timeout; 0s turns it off. Under a client's own
	// TLS passed through, the phase cannot be followed and the timer ends
	// at the SSLRequest.
	HandshakeTimeout config.Duration `yaml:"handshake_timeout" json:"handshake_timeout"`
	// RequestTimeout closes a logged-in client that started a packet (part
	// of its header or payload) and has not finished it this long after its
	// first byte; counted as request_timeout. Each packet of a message of
	// 16 MiB or more has its own time. Default 30s, MySQL's
	// net_read_timeout; 0s turns it off.
	RequestTimeout config.Duration `yaml:"request_timeout" json:"request_timeout"`
	// Tracing emits a span per statement (sluice's; tracing.go).
	Tracing *tracing.StatementConfig `yaml:"tracing" json:"tracing,omitempty"`
}

// Default timeouts, MySQL's connect_timeout and net_read_timeout.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultRequestTimeout   = 30 * time.Second
)

// UpstreamTLS verifies the server's certificate under upstream_ssl: require.
type UpstreamTLS struct {
	// CAFile is a PEM bundle the server's chain must verify against; empty:
	// the system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty" sluice:"path"`
	// ServerName, when set, must be in the certificate and is sent as SNI
	// (--ssl-mode=VERIFY_IDENTITY); empty: only the chain is verified
	// (VERIFY_CA), which then needs ca_file.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// NewConfig returns a config with the defaults.
func NewConfig() *Config {
	return &Config{MaxSQLBytes: DefaultMaxSQLBytes, UpstreamSSL: UpstreamSSLDisable, ParseCacheSize: DefaultParseCacheSize,
		HandshakeTimeout: config.Duration(DefaultHandshakeTimeout), RequestTimeout: config.Duration(DefaultRequestTimeout)}
}

// parseSQL reports the effective parse_sql setting.
func (c *Config) parseSQL() bool { return c.ParseSQL == nil || *c.ParseSQL }

// UpstreamTLSPath is config.UpstreamTLSOwner: upstream_ssl speaks TLS
// inside the protocol, so the chain's cluster must not add its own.
func (c *Config) UpstreamTLSPath(path string) string {
	if c.UpstreamSSL == UpstreamSSLRequire {
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
	if c.MaxSQLBytes < 1 || c.MaxSQLBytes > 1<<20 {
		errs.Add(config.Join(path, "max_sql_bytes"), "must be between 1 and 1048576, got %d", c.MaxSQLBytes)
	}
	if c.ParseCacheSize < 0 || c.ParseCacheSize > 1<<20 {
		errs.Add(config.Join(path, "parse_cache_size"), "must be between 0 and 1048576, got %d", c.ParseCacheSize)
	}
	switch c.UpstreamSSL {
	case UpstreamSSLDisable, UpstreamSSLRequire:
	default:
		errs.Add(config.Join(path, "upstream_ssl"), "must be disable or require, got %q", c.UpstreamSSL)
	}
	if u := c.UpstreamTLS; u != nil {
		if c.UpstreamSSL != UpstreamSSLRequire {
			errs.Add(config.Join(path, "upstream_tls"), "only used with upstream_ssl: require")
		}
		if u.CAFile == "" && u.ServerName == "" {
			errs.Add(config.Join(path, "upstream_tls"), "needs ca_file, server_name or both")
		}
	}
}

// serverTLS builds the terminate_ssl context (tlsctx: every Envoy
// DownstreamTlsContext field, files re-read when they rotate).
func serverTLS(t *config.TLSContext, env *filters.Env) (*tlsctx.Server, error) {
	srv, err := tlsctx.NewServer(t, tlsctx.Options{Path: "terminate_ssl", Log: env.Log, Secrets: env.Secrets})
	if err != nil {
		return nil, fmt.Errorf("mysql_proxy: %w", err)
	}
	return srv, nil
}
