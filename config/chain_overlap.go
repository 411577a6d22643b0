package config

import (
	"fmt"
	"strings"
)

// checkChainOverlap refuses two filter chains of a listener that a
// connection could match equally well, as Envoy does ("multiple filter
// chains with overlapping matching rules"): with most-specific matching
// there would be no way to choose between them. Two chains overlap when,
// for every criterion, their value sets share a value (an empty criterion
// is the value "any").
func checkChainOverlap(path string, chains []FilterChain, errs *Errors) {
	keys := make([][][]string, len(chains))
	for i := range chains {
		keys[i] = matchKeys(&chains[i].Match)
	}
	for j := range chains {
		for i := 0; i < j; i++ {
			if overlap(keys[i], keys[j]) {
				errs.Add(Join(Index(Join(path, "filter_chains"), j), "match"),
					"overlaps filter_chains[%d]: a connection could match both equally well", i)
				break
			}
		}
	}
}

// matchKeys lists each criterion's normalized values, in Envoy's order.
func matchKeys(m *ChainMatch) [][]string {
	cidrs := func(l []string) []string {
		var out []string
		for _, s := range l {
			if p, err := ParseCIDR(s); err == nil {
				out = append(out, p.String())
			}
		}
		return out
	}
	lower := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ToLower(s)
		}
		return out
	}
	ints := func(l []int) []string {
		out := make([]string, len(l))
		for i, v := range l {
			out[i] = fmt.Sprint(v)
		}
		return out
	}
	port := []string{}
	if m.DestinationPort != 0 {
		port = []string{fmt.Sprint(m.DestinationPort)}
	}
	st := []string{}
	if m.SourceType != "" && m.SourceType != "ANY" {
		st = []string{m.SourceType}
	}
	tp := []string{}
	if m.TransportProtocol != "" {
		tp = []string{m.TransportProtocol}
	}
	return [][]string{port, cidrs(m.DestinationPrefixes), lower(m.ServerNames), tp, m.ApplicationProtocols,
		cidrs(m.DirectSourcePrefixes), st, cidrs(m.SourcePrefixes), ints(m.SourcePorts)}
}

func overlap(a, b [][]string) bool {
	for k := range a {
		if !intersects(a[k], b[k]) {
			return false
		}
	}
	return true
}

func intersects(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
