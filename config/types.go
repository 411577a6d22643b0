package config

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("1s", "500ms", "1h30m").
type Duration time.Duration

// UnmarshalText parses a Go duration string; negative durations are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a number with a unit: 500ms, 1s, 1h)", b)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText renders the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// CheckHostPort validates "host:port" with a numeric port in 1..65535 (0 too
// when allowZero, for listeners that want an ephemeral port). The host may be
// an IP or a name; names are resolved by the caller when it binds or dials.
func CheckHostPort(addr string, allowZero bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 || (p == 0 && !allowZero) {
		return fmt.Errorf("invalid address %q: bad port %q", addr, port)
	}
	if host == "" && !allowZero {
		return fmt.Errorf("invalid address %q: missing host", addr)
	}
	return nil
}
