package router

import "strings"

// MatchServerName reports whether name (a TLS SNI) matches one of patterns
// as Envoy's filter_chain_match.server_names does: an exact name, or a
// "*.example.com" wildcard, which matches any name ending in ".example.com"
// with at least one more character in front (not "example.com" itself);
// case-insensitively. An empty name matches nothing.
func MatchServerName(patterns []string, name string) bool {
	if name == "" {
		return false
	}
	for _, p := range patterns {
		if strings.EqualFold(p, name) {
			return true
		}
		if suffix, ok := strings.CutPrefix(p, "*"); ok && strings.HasPrefix(suffix, ".") &&
			len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}
