package kafka

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddrFunc maps a broker's advertised address to the one clients should
// use (sluice's own listener for that broker, say). It is called once per
// address in a response.
type AddrFunc func(nodeID int32, host string, port int32) (string, int32)

// RewriteMetadata decodes a Metadata response body (after the response
// header) of the given version, passes every broker's address through fn
// and returns the re-encoded body. Unknown tagged fields are kept.
func RewriteMetadata(version int16, body []byte, fn AddrFunc) ([]byte, error) {
	resp := kmsg.NewPtrMetadataResponse()
	if err := readResponse(resp, version, body); err != nil {
		return nil, err
	}
	for i := range resp.Brokers {
		b := &resp.Brokers[i]
		b.Host, b.Port = fn(b.NodeID, strings.Clone(b.Host), b.Port)
	}
	return resp.AppendTo(make([]byte, 0, len(body)+64)), nil
}

// RewriteFindCoordinator is RewriteMetadata for FindCoordinator responses:
// the single coordinator of v0-v3, every coordinator of v4+. Entries with
// an error code (node id -1, empty host) are passed to fn too.
func RewriteFindCoordinator(version int16, body []byte, fn AddrFunc) ([]byte, error) {
	resp := kmsg.NewPtrFindCoordinatorResponse()
	if err := readResponse(resp, version, body); err != nil {
		return nil, err
	}
	if version <= 3 {
		resp.Host, resp.Port = fn(resp.NodeID, strings.Clone(resp.Host), resp.Port)
	}
	for i := range resp.Coordinators {
		c := &resp.Coordinators[i]
		c.Host, c.Port = fn(c.NodeID, strings.Clone(c.Host), c.Port)
	}
	return resp.AppendTo(make([]byte, 0, len(body)+64)), nil
}

// RewriteDescribeCluster is RewriteMetadata for DescribeCluster responses
// (brokers, or controllers when the request asked for them).
func RewriteDescribeCluster(version int16, body []byte, fn AddrFunc) ([]byte, error) {
	resp := kmsg.NewPtrDescribeClusterResponse()
	if err := readResponse(resp, version, body); err != nil {
		return nil, err
	}
	for i := range resp.Brokers {
		b := &resp.Brokers[i]
		b.Host, b.Port = fn(b.NodeID, strings.Clone(b.Host), b.Port)
	}
	return resp.AppendTo(make([]byte, 0, len(body)+64)), nil
}

// RewritesAddresses reports whether RewriteResponse handles key.
func RewritesAddresses(key int16) bool {
	return key == KeyMetadata || key == KeyFindCoordinator || key == KeyDescribeCluster
}

// RewriteResponse dispatches to RewriteMetadata, RewriteFindCoordinator or
// RewriteDescribeCluster by key; other keys yield ErrUnknownAPIKey.
func RewriteResponse(key, version int16, body []byte, fn AddrFunc) ([]byte, error) {
	switch key {
	case KeyMetadata:
		return RewriteMetadata(version, body, fn)
	case KeyFindCoordinator:
		return RewriteFindCoordinator(version, body, fn)
	case KeyDescribeCluster:
		return RewriteDescribeCluster(version, body, fn)
	}
	return nil, fmt.Errorf("kafka: rewrite: %w: %d has no broker addresses to rewrite", ErrUnknownAPIKey, key)
}

// AppendResponseFrame appends a whole response frame: the 4-byte size, the
// response header for key and version, and body.
func AppendResponseFrame(dst []byte, key, version int16, correlationID int32, body []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendResponseHeader(dst, key, version, correlationID)
	dst = append(dst, body...)
	putSize(dst[start:], len(dst)-start-4)
	return dst
}

func putSize(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

func readResponse(resp kmsg.Response, version int16, body []byte) error {
	name := ApiName(resp.Key())
	if version < 0 || version > resp.MaxVersion() {
		return fmt.Errorf("kafka: %s v%d: %w (max v%d)", name, version, ErrUnsupportedVersion, resp.MaxVersion())
	}
	resp.SetVersion(version)
	// Unsafe: decoded strings alias body, which outlives resp (re-encoded
	// before returning); hosts are cloned before fn sees them.
	if err := resp.(kmsg.UnsafeReadFrom).UnsafeReadFrom(body); err != nil {
		return fmt.Errorf("kafka: decoding %s response v%d: %w", name, version, err)
	}
	return nil
}
