package redis

import (
	"bytes"
	"github.com/sluice-proxy/sluice/cluster/lb"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
)

// roundTrip writes req on a fresh client and reads everything until the
// proxy closes (req should end with QUIT).
func roundTrip(t *testing.T, p *Proxy, req string) string {
	t.Helper()
	cli, _ := serveClient(t, p)
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	go cli.Write([]byte(req))
	out, err := io.ReadAll(cli)
	if err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatalf("read: %v", err)
	}
	return string(out)
}

func TestProxyCommands(t *testing.T) {
	f := startFake(t)
	p, store := newTestProxy(t, f.addr(), nil)
	cmd := func(args ...string) string { return string(redis.AppendCommandString(nil, args...)) }
	quit := cmd("QUIT")
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"set get", cmd("SET", "a", "1") + cmd("GET", "a") + quit, "+OK\r\n$1\r\n1\r\n+OK\r\n"},
		{"inline", "PING\r\nGET a\r\nQUIT\r\n", "+PONG\r\n$1\r\n1\r\n+OK\r\n"},
		{"ping arg", cmd("PING", "x") + quit, "$1\r\nx\r\n+OK\r\n"},
		{"echo", cmd("ECHO", "hey") + quit, "$3\r\nhey\r\n+OK\r\n"},
		{"unknown", cmd("NOSUCH") + quit, "-ERR unsupported command 'nosuch'\r\n+OK\r\n"},
		{"admin", cmd("CONFIG", "GET", "x") + quit, "-ERR unsupported command 'config'\r\n+OK\r\n"},
		{"arity", cmd("GET") + quit, "-ERR wrong number of arguments for 'get' command\r\n+OK\r\n"},
		{"hello3", cmd("HELLO", "3") + quit, "-NOPROTO sorry, this protocol version is not supported\r\n+OK\r\n"},
		{"select", cmd("SELECT", "2") + quit, "-ERR only database 0 is supported\r\n+OK\r\n"},
		{"auth unset", cmd("AUTH", "x") + quit, "-ERR Client sent AUTH, but no password is set\r\n+OK\r\n"},
		{"exec alone", cmd("EXEC") + quit, "-ERR EXEC without MULTI\r\n+OK\r\n"},
		{"unsubscribe", cmd("UNSUBSCRIBE") + quit, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n+OK\r\n"},
		{"tx abort", cmd("MULTI") + cmd("KEYS", "*") + cmd("EXEC") + quit,
			"+OK\r\n-ERR unsupported command 'keys'\r\n-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n"},
		{"protocol error", cmd("PING") + "*1\r\n$x\r\n", "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := roundTrip(t, p, tc.input); got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
	if v, _ := store.CounterValue("redis.t.downstream_cx_protocol_error"); v != 1 {
		t.Errorf("downstream_cx_protocol_error = %d, want 1", v)
	}
	if v, _ := store.CounterValue("redis.t.splitter.unsupported_command"); v != 3 {
		t.Errorf("splitter.unsupported_command = %d, want 3", v)
	}
}

func TestProxyDeadUpstream(t *testing.T) {
	f := startFake(t)
	addr := f.addr()
	f.ln.Close()
	p, _ := newTestProxy(t, addr, nil)
	got := roundTrip(t, p, string(redis.AppendCommandString(nil, "GET", "a"))+"PING\r\nQUIT\r\n")
	if want := "-ERR upstream failure\r\n+PONG\r\n+OK\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestProxyDownstreamAuth(t *testing.T) {
	f := startFake(t)
	p, _ := newTestProxy(t, f.addr(), func(c *Config) {
		c.DownstreamAuthUsername, c.DownstreamAuthPassword = "app", "pw"
	})
	cmd := func(args ...string) string { return string(redis.AppendCommandString(nil, args...)) }
	got := roundTrip(t, p, cmd("GET", "a")+cmd("AUTH", "pw")+cmd("AUTH", "app", "bad")+cmd("AUTH", "app", "pw")+cmd("PING")+cmd("QUIT"))
	want := "-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair\r\n" +
		"-WRONGPASS invalid username-password pair\r\n+OK\r\n+PONG\r\n+OK\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestRouterLongestPrefix(t *testing.T) {
	a, b, all := &route{prefix: []byte("ab")}, &route{prefix: []byte("abc")}, &route{}
	for _, ci := range []bool{false, true} {
		r := newRouter([]*route{{prefix: []byte("ab")}, {prefix: []byte("abc")}}, all, ci)
		a, b = r.routes[1], r.routes[0]
		tests := []struct {
			key  string
			want *route
		}{
			{"abcd", b}, {"abx", a}, {"a", all}, {"", all},
		}
		if ci {
			tests = append(tests, struct {
				key  string
				want *route
			}{"ABCD", b})
		} else {
			tests = append(tests, struct {
				key  string
				want *route
			}{"ABCD", all})
		}
		for _, tc := range tests {
			if got := r.match([]byte(tc.key)); got != tc.want {
				t.Errorf("ci=%v match(%q) = %p, want %p", ci, tc.key, got, tc.want)
			}
		}
	}
}

func TestKeyHashEnvoyVectors(t *testing.T) {
	// Envoy's test/common/common/hash_test.cc (MurmurHash::murmurHash2).
	tests := []struct {
		in   string
		want uint64
	}{
		{"foo", 9631199822919835226},
	}
	if got := lb.MurmurHash2([]byte(tests[0].in)); got != tests[0].want {
		t.Fatalf("lb.MurmurHash2(foo) = %d, want %d", got, tests[0].want)
	}
	if HashKey([]byte("user{42}:name"), true) != HashKey([]byte("42"), false) {
		t.Fatal("hash tag not applied")
	}
	if HashKey([]byte("user{42}:name"), false) == HashKey([]byte("42"), false) {
		t.Fatal("hash tag applied without enable_hashtagging")
	}
}

func TestArrayItems(t *testing.T) {
	tests := []struct {
		name  string
		input string
		n     int
		want  []string
	}{
		{"two", "*2\r\n$1\r\na\r\n$-1\r\n", 2, []string{"$1\r\na\r\n", "$-1\r\n"}},
		{"count mismatch", "*2\r\n$1\r\na\r\n$-1\r\n", 3, nil},
		{"error", "-ERR x\r\n", 1, nil},
		{"truncated", "*2\r\n$1\r\na\r\n", 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := arrayItems([]byte(tc.input), tc.n)
			if len(got) != len(tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], []byte(tc.want[i])) {
					t.Fatalf("item %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"ok", func(*Config) {}, ""},
		{"no prefix", func(c *Config) { c.StatPrefix = "" }, "stat_prefix"},
		{"no op_timeout", func(c *Config) { c.Settings.OpTimeout = 0 }, "op_timeout"},
		{"read policy", func(c *Config) { c.Settings.ReadPolicy = "x" }, "read_policy"},
		{"no routes", func(c *Config) { c.PrefixRoutes.CatchAllRoute = nil }, "prefix_routes"},
		{"dup prefix", func(c *Config) {
			c.PrefixRoutes.Routes = []Route{{Prefix: "a", Cluster: "x"}, {Prefix: "a", Cluster: "y"}}
		}, "given twice"},
		{"user without password", func(c *Config) { c.DownstreamAuthUsername = "u" }, "downstream_auth_password"},
		{"pool size", func(c *Config) { c.Settings.MaxUpstreamConnectionsPerHost = 0 }, "max_upstream_connections_per_host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConfig()
			c.StatPrefix = "p"
			c.Settings.OpTimeout = config.Duration(time.Second)
			c.PrefixRoutes.CatchAllRoute = &Route{Cluster: "c"}
			tc.mutate(c)
			var errs config.Errors
			c.Settings.Validate("settings", &errs)
			c.Validate("redis_proxy", &errs)
			got := ""
			for _, e := range errs.List {
				got += e.Path + ": " + e.Msg + "\n"
			}
			if (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
				t.Fatalf("errors %q, want one containing %q", got, tc.wantErr)
			}
		})
	}
}
