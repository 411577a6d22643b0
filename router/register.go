package router

import "github.com/sluice-proxy/sluice/config"

// The config model's StringMatch fields (a TLS context's SAN matchers)
// decode into this package's StringMatcher; config cannot import router.
func init() {
	config.RegisterStringMatcher(func() any { return new(StringMatcher) })
}
