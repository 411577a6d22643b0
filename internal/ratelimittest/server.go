// Package ratelimittest is a rate limit service for tests: Envoy's
// envoy.service.ratelimit.v3.RateLimitService on go-control-plane's types,
// counting in a real redis-server with the fixed windows of Envoy's own
// service (github.com/envoyproxy/ratelimit): one counter per descriptor
// and window, INCRBY then EXPIRE.
//
// It stands in for that service because the Go module proxy serves no
// version of it (no tags, and its branches are refused), so it cannot be
// built here. The descriptor tree is the same shape as its YAML config:
// nested key/value nodes, a node without a value matching any value.
package ratelimittest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	commonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Descriptor is one node of the limits tree.
type Descriptor struct {
	Key, Value      string // Value "": any value
	RequestsPerUnit uint32 // 0: no limit at this node
	Unit            rlsv3.RateLimitResponse_RateLimit_Unit
	Descriptors     []Descriptor
}

// Server serves the limits of one or more domains.
type Server struct {
	rlsv3.UnimplementedRateLimitServiceServer
	domains map[string][]Descriptor
	rdb     *redis.Client
	gs      *grpc.Server
	addr    string
	// Calls counts the requests served; Hang makes Check wait for the
	// caller's deadline (a service that does not answer).
	Calls atomic.Int64
	Hang  atomic.Bool
	// Now is the clock of the windows; time.Now when nil (set it before
	// the first call to keep a test inside one window).
	Now func() time.Time
}

// Start serves on a free loopback port until Stop.
func Start(redisAddr string, domains map[string][]Descriptor) (*Server, error) {
	return StartOn("127.0.0.1:0", redisAddr, domains)
}

// StartOn serves on addr until Stop.
func StartOn(addr, redisAddr string, domains map[string][]Descriptor) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{domains: domains, rdb: redis.NewClient(&redis.Options{Addr: redisAddr}), gs: grpc.NewServer(), addr: l.Addr().String()}
	rlsv3.RegisterRateLimitServiceServer(s.gs, s)
	go func() { _ = s.gs.Serve(l) }()
	return s, nil
}

// Addr is the service's host:port.
func (s *Server) Addr() string { return s.addr }

// Stop ends the server and its redis client.
func (s *Server) Stop() {
	s.gs.Stop()
	_ = s.rdb.Close()
}

func unitSeconds(u rlsv3.RateLimitResponse_RateLimit_Unit) int64 {
	switch u {
	case rlsv3.RateLimitResponse_RateLimit_SECOND:
		return 1
	case rlsv3.RateLimitResponse_RateLimit_MINUTE:
		return 60
	case rlsv3.RateLimitResponse_RateLimit_HOUR:
		return 3600
	default:
		return 86400
	}
}

// ShouldRateLimit counts each descriptor that has a limit and answers
// OVER_LIMIT when any is over.
func (s *Server) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	s.Calls.Add(1)
	if s.Hang.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	hits := int64(req.GetHitsAddend())
	if hits == 0 {
		hits = 1
	}
	resp := &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK}
	clock := s.Now
	if clock == nil {
		clock = time.Now
	}
	now := clock().Unix()
	for _, d := range req.GetDescriptors() {
		node := lookup(s.domains[req.GetDomain()], d.GetEntries())
		st := &rlsv3.RateLimitResponse_DescriptorStatus{Code: rlsv3.RateLimitResponse_OK}
		resp.Statuses = append(resp.Statuses, st)
		if node == nil || node.RequestsPerUnit == 0 {
			continue
		}
		secs := unitSeconds(node.Unit)
		window := now / secs * secs
		key := fmt.Sprintf("%s_%s_%d", req.GetDomain(), entriesKey(d.GetEntries()), window)
		n, err := s.rdb.IncrBy(ctx, key, hits).Result()
		if err != nil {
			return nil, err
		}
		if err := s.rdb.Expire(ctx, key, time.Duration(secs)*time.Second).Err(); err != nil {
			return nil, err
		}
		st.CurrentLimit = &rlsv3.RateLimitResponse_RateLimit{RequestsPerUnit: node.RequestsPerUnit, Unit: node.Unit}
		st.DurationUntilReset = durationpb.New(time.Duration(window+secs-now) * time.Second)
		if n > int64(node.RequestsPerUnit) {
			st.Code = rlsv3.RateLimitResponse_OVER_LIMIT
			resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT
		} else {
			st.LimitRemaining = node.RequestsPerUnit - uint32(n)
		}
	}
	return resp, nil
}

// lookup walks the tree along the entries: an exact value wins over a
// node without one.
func lookup(nodes []Descriptor, entries []*commonv3.RateLimitDescriptor_Entry) *Descriptor {
	var found *Descriptor
	for _, e := range entries {
		found = nil
		for i := range nodes {
			n := &nodes[i]
			if n.Key != e.GetKey() {
				continue
			}
			if n.Value == e.GetValue() {
				found = n
				break
			}
			if n.Value == "" && found == nil {
				found = n
			}
		}
		if found == nil {
			return nil
		}
		nodes = found.Descriptors
	}
	return found
}

func entriesKey(entries []*commonv3.RateLimitDescriptor_Entry) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(e.GetKey())
		b.WriteByte('_')
		b.WriteString(e.GetValue())
	}
	return b.String()
}
