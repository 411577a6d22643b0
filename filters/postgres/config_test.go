package postgres

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{name: "defaults", mod: func(*Config) {}},
		{name: "no stat_prefix", mod: func(c *Config) { c.StatPrefix = "" }, wantErr: "stat_prefix: required"},
		{name: "bad upstream_ssl", mod: func(c *Config) { c.UpstreamSSL = "allow" }, wantErr: "upstream_ssl: must be disable, prefer or require"},
		{name: "prefer", mod: func(c *Config) { c.UpstreamSSL = UpstreamSSLPrefer }},
		{name: "upstream_tls with prefer", mod: func(c *Config) { c.UpstreamSSL, c.UpstreamTLS = UpstreamSSLPrefer, &UpstreamTLS{} }},
		{name: "upstream_tls with disable", mod: func(c *Config) { c.UpstreamTLS = &UpstreamTLS{} }, wantErr: "upstream_tls: only used with upstream_ssl: require or prefer"},
		{name: "terminate_ssl without cert", mod: func(c *Config) { c.TerminateSSL = true }, wantErr: "tls: terminate_ssl needs"},
		{name: "tls without terminate_ssl", mod: func(c *Config) { c.TLS = &config.TLSContext{} }, wantErr: "tls: only used with terminate_ssl"},
		{name: "max_sql_prefix zero", mod: func(c *Config) { c.MaxSQLPrefix = 0 }, wantErr: "max_sql_prefix: must be between"},
		{name: "route without cluster", mod: func(c *Config) { c.Routes = []Route{{}} }, wantErr: "routes[0].cluster: required"},
		{name: "exact and prefix", mod: func(c *Config) {
			c.Routes = []Route{{Cluster: "a", User: &router.StringMatcher{Exact: str("x"), Prefix: "y"}}}
		}, wantErr: "routes[0].user: set exactly one of exact, prefix"},
		{name: "server_names without terminate_ssl", mod: func(c *Config) {
			c.Routes = []Route{{Cluster: "a", ServerNames: []string{"x"}}}
		}, wantErr: "routes[0].server_names: SNI is only known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			c.StatPrefix = "p"
			tt.mod(c)
			var errs config.Errors
			c.Validate("f", &errs)
			got := errs.Error()
			if tt.wantErr == "" && errs.Err() != nil {
				t.Fatalf("unexpected errors: %s", got)
			}
			if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("errors %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	f, _ := newTestFilter(t, func(c *Config) {
		c.Routes = []Route{
			{Database: &router.StringMatcher{Exact: str("orders")}, Cluster: "orders"},
			{Database: &router.StringMatcher{Prefix: "tenant_"}, User: &router.StringMatcher{Exact: str("app")}, Cluster: "tenants"},
			{Database: &router.StringMatcher{Suffix: "_ARCHIVE", IgnoreCase: true}, Cluster: "archive"},
			{ServerNames: []string{"*.reports.example.com"}, Cluster: "reports"},
			{ServerNames: []string{"Analytics.example.com"}, Cluster: "analytics"},
		}
	})
	tests := []struct{ name, db, user, sni, want string }{
		{name: "exact database", db: "orders", user: "x", want: "orders"},
		{name: "exact is not prefix", db: "orders2", user: "x", want: ""},
		{name: "prefix and user", db: "tenant_7", user: "app", want: "tenants"},
		{name: "prefix, other user", db: "tenant_7", user: "bob", want: ""},
		{name: "sni case-insensitive", db: "x", user: "y", sni: "analytics.example.com", want: "analytics"},
		{name: "first match wins", db: "orders", user: "app", sni: "analytics.example.com", want: "orders"},
		{name: "suffix ignore_case", db: "sales_archive", user: "y", want: "archive"},
		{name: "sni wildcard", db: "x", user: "y", sni: "eu.reports.example.com", want: "reports"},
		{name: "sni wildcard not the bare domain", db: "x", user: "y", sni: "reports.example.com", want: ""},
		{name: "default", db: "x", user: "y", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.route(tt.db, tt.user, tt.sni); got != tt.want {
				t.Errorf("route(%q, %q, %q) = %q, want %q", tt.db, tt.user, tt.sni, got, tt.want)
			}
		})
	}
}

func TestShapeKey(t *testing.T) {
	tests := []struct {
		name, input, want string
		wantOK            bool
	}{
		{name: "numbers blanked", input: "SELECT a FROM t WHERE id = 12345", want: "SELECT a FROM t WHERE id = 0", wantOK: true},
		{name: "identifier digits kept", input: "SELECT * FROM t1 JOIN t22 ON x=3", want: "SELECT * FROM t1 JOIN t22 ON x=0", wantOK: true},
		{name: "params kept", input: "SELECT $1, 2.5e10", want: "SELECT $1, 0.0e10", wantOK: true},
		{name: "quoted identifier refused", input: `SELECT * FROM "t 1"`, wantOK: false},
		{name: "too long refused", input: "SELECT " + strings.Repeat("1,", 3000) + "1", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := shapeKey(nil, []byte(tt.input))
			if ok != tt.wantOK || (ok && string(got) != tt.want) {
				t.Errorf("shapeKey(%q) = %q, %v; want %q, %v", tt.input, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseCacheSharesShapes(t *testing.T) {
	pc := newParseCache(32)
	a, _, err := pc.parse([]byte("UPDATE acc SET b = b + 5 WHERE id = 1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := pc.parse([]byte("UPDATE acc SET b = b + 7 WHERE id = 99"))
	if err != nil {
		t.Fatal(err)
	}
	if &a[0] != &b[0] || a[0].String() != "acc: update" {
		t.Errorf("second parse not from the cache or wrong: %v / %v", a, b)
	}
	if _, _, err := pc.parse([]byte("SELEC 1")); err == nil {
		t.Error("want a parse error")
	}
}

func str(s string) *string { return &s }
