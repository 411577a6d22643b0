//go:build !race

package tcpproxy_test

// largePayload is 256 MiB; the race detector build uses less (size_race_test.go).
const largePayload = 256 << 20
