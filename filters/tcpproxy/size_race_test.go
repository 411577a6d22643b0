//go:build race

package tcpproxy_test

const largePayload = 16 << 20
