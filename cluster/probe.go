package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// The probes speak just enough of each protocol to judge a host. The Redis
// probe is written by hand: one PING (or EXISTS) and one reply line, where
// a client library would bring pools and retries that blur what one check
// saw. HTTP uses net/http with keep-alives off, so a check never leaves an
// idle connection (or goroutine) behind.

// prober runs one check against one host within ctx's deadline. It returns
// nil for a pass, a *networkError when the host could not be reached or did
// not answer in time, and any other error for a wrong answer.
type prober interface {
	probe(ctx context.Context, h *Host) error
}

// networkError marks a failure to reach the host, which counts against
// unhealthy_threshold instead of failing the host at once.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

func isNetworkFailure(err error) bool {
	var ne *networkError
	return errors.As(err, &ne)
}

// maxProbeRead bounds what a probe reads from a host.
const maxProbeRead = 64 << 10

func newProber(c *Cluster, hc *config.HealthCheck) prober {
	switch {
	case hc.HTTPHealthCheck != nil:
		return newHTTPProbe(c, hc.HTTPHealthCheck)
	case hc.RedisHealthCheck != nil:
		return &redisProbe{dial: c.dialer, key: hc.RedisHealthCheck.Key}
	case hc.GRPCHealthCheck != nil:
		return newGRPCProbe(c, hc.GRPCHealthCheck)
	}
	p := &tcpProbe{dial: c.dialer}
	if t := hc.TCPHealthCheck; t != nil {
		if t.Send != nil {
			p.send = t.Send.Bytes()
		}
		for i := range t.Receive {
			p.receive = append(p.receive, t.Receive[i].Bytes())
		}
	}
	return p
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialProbe connects with ctx's deadline applied to the connection as well.
func dialProbe(ctx context.Context, dial dialFunc, h *Host) (net.Conn, error) {
	conn, err := dial(ctx, "tcp", h.DialAddress())
	if err != nil {
		return nil, &networkError{fmt.Errorf("connect: %w", err)}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return conn, nil
}

// tcpProbe connects, optionally sends bytes, and finds every receive block
// in order in what comes back (Envoy's fuzzy match).
type tcpProbe struct {
	dial    dialFunc
	send    []byte
	receive [][]byte
}

func (p *tcpProbe) probe(ctx context.Context, h *Host) error {
	conn, err := dialProbe(ctx, p.dial, h)
	if err != nil {
		return err
	}
	defer conn.Close()
	if len(p.send) > 0 {
		if _, err := conn.Write(p.send); err != nil {
			return &networkError{fmt.Errorf("send: %w", err)}
		}
	}
	if len(p.receive) == 0 {
		return nil
	}
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < maxProbeRead {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if fuzzyMatch(got, p.receive) {
			return nil
		}
		if err != nil {
			return &networkError{fmt.Errorf("receive: %w", err)}
		}
	}
	return fmt.Errorf("receive: no match in the first %d bytes", maxProbeRead)
}

// fuzzyMatch reports whether every block occurs in data, in order.
func fuzzyMatch(data []byte, blocks [][]byte) bool {
	for _, b := range blocks {
		i := bytes.Index(data, b)
		if i < 0 {
			return false
		}
		data = data[i+len(b):]
	}
	return true
}

// redisProbe sends PING and wants +PONG, or EXISTS key and wants :0.
type redisProbe struct {
	dial dialFunc
	key  string
}

func (p *redisProbe) probe(ctx context.Context, h *Host) error {
	conn, err := dialProbe(ctx, p.dial, h)
	if err != nil {
		return err
	}
	defer conn.Close()
	req, want := "*1\r\n$4\r\nPING\r\n", "+PONG"
	if p.key != "" {
		req, want = fmt.Sprintf("*2\r\n$6\r\nEXISTS\r\n$%d\r\n%s\r\n", len(p.key), p.key), ":0"
	}
	if _, err := io.WriteString(conn, req); err != nil {
		return &networkError{fmt.Errorf("redis: send: %w", err)}
	}
	return checkRedisReply(conn, want)
}

// maxRedisLine bounds the reply line a Redis probe reads.
const maxRedisLine = 4096

// checkRedisReply reads one reply line (at most maxRedisLine bytes) and
// compares it with want ("+PONG", ":0"). A read error is a network failure;
// any other line is a wrong answer.
func checkRedisReply(r io.Reader, want string) error {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxRedisLine), maxRedisLine).ReadString('\n')
	if err != nil {
		return &networkError{fmt.Errorf("redis: reading reply: %w", err)}
	}
	if got := strings.TrimRight(line, "\r\n"); got != want {
		return fmt.Errorf("redis: got %q, want %q", got, want)
	}
	return nil
}

// httpProbe sends GET path and checks the status.
type httpProbe struct {
	client *http.Client
	cfg    *config.HTTPHealthCheck
	host   string
}

func newHTTPProbe(c *Cluster, cfg *config.HTTPHealthCheck) *httpProbe {
	tr := &http.Transport{DialContext: c.dialer, DisableKeepAlives: true, Proxy: nil}
	host := cfg.Host
	if host == "" {
		host = c.name
	}
	return &httpProbe{client: &http.Client{Transport: tr, CheckRedirect: noRedirect}, cfg: cfg, host: host}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (p *httpProbe) probe(ctx context.Context, h *Host) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h.DialAddress()+p.cfg.Path, nil)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	req.Host = p.host
	req.Header.Set("User-Agent", "sluice/HC")
	resp, err := p.client.Do(req)
	if err != nil {
		return &networkError{fmt.Errorf("http: %w", err)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeRead))
	resp.Body.Close()
	if !p.cfg.Expects(resp.StatusCode) {
		return fmt.Errorf("http: status %d not expected", resp.StatusCode)
	}
	return nil
}

// probeTimeout is how long Apply waits for a new cluster's first checks.
func probeTimeout(checks []config.HealthCheck) time.Duration {
	var d time.Duration
	for _, c := range checks {
		d = max(d, c.Timeout.D()+c.InitialJitter.D())
	}
	return d + 100*time.Millisecond
}
