package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-proxy/sluice/config"
)

// grpcProbe calls grpc.health.v1.Health/Check over h2c with net/http's
// HTTP/2 client. The two messages (HealthCheckRequest{service},
// HealthCheckResponse{status}) are one field each, encoded with protowire
// rather than grpc-go's generated types, which would link grpc-go into
// every sluice binary for one call.
type grpcProbe struct {
	client    *http.Client
	service   string
	authority string
}

func newGRPCProbe(c *Cluster, cfg *config.GRPCHealthCheck) *grpcProbe {
	tr := &http.Transport{DialContext: c.dialer, DisableKeepAlives: true, Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	auth := cfg.Authority
	if auth == "" {
		auth = c.name
	}
	return &grpcProbe{client: &http.Client{Transport: tr, CheckRedirect: noRedirect}, service: cfg.ServiceName, authority: auth}
}

// grpcServing is grpc.health.v1.HealthCheckResponse.SERVING.
const grpcServing = 1

func (p *grpcProbe) probe(ctx context.Context, h *Host) error {
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, p.service)
	if p.service == "" {
		msg = nil // proto3: the empty string is not sent
	}
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+h.DialAddress()+"/grpc.health.v1.Health/Check", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	req.Host = p.authority
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("User-Agent", "sluice/HC")
	resp, err := p.client.Do(req)
	if err != nil {
		return &networkError{fmt.Errorf("grpc: %w", err)}
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeRead))
	if err != nil {
		return &networkError{fmt.Errorf("grpc: reading answer: %w", err)}
	}
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status") // a trailers-only answer
	}
	if resp.StatusCode != http.StatusOK || status != "0" {
		return fmt.Errorf("grpc: HTTP %d, grpc-status %q %s", resp.StatusCode, status, resp.Trailer.Get("Grpc-Message")+resp.Header.Get("Grpc-Message"))
	}
	s, err := healthStatus(got)
	if err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	if s != grpcServing {
		return fmt.Errorf("grpc: service %q is not serving (status %d)", p.service, s)
	}
	return nil
}

// healthStatus decodes the status of one framed HealthCheckResponse.
func healthStatus(b []byte) (uint64, error) {
	if len(b) < 5 || b[0] != 0 || int(binary.BigEndian.Uint32(b[1:5])) != len(b)-5 {
		return 0, fmt.Errorf("not one uncompressed gRPC message: % x", b[:min(len(b), 16)])
	}
	b = b[5:]
	var status uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			status, b = v, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return status, nil
}
