// Package config is sluice's configuration model (plain Go structs), its YAML
// loader with strict decoding and file/field/reason errors, and the checks
// that run before a config is published.
package config

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is one complete, validated sluice configuration. It is immutable once
// Load returns it: the server diffs it against the running one.
type Config struct {
	// Admin is the admin HTTP server; no address means no admin server.
	Admin Admin `yaml:"admin" json:"admin"`
	// Listeners accept downstream connections.
	Listeners []Listener `yaml:"listeners" json:"listeners"`
	// Clusters are the upstreams that terminal filters route to.
	Clusters []Cluster `yaml:"clusters" json:"clusters"`
	// OverloadManager, when set, sheds load under memory pressure (Envoy's
	// bootstrap overload_manager).
	OverloadManager *OverloadManager `yaml:"overload_manager" json:"overload_manager,omitempty"`
	// DrainTimeout bounds how long connections of a removed listener, or of
	// every listener on SIGTERM, may run on. Default 30s.
	DrainTimeout Duration `yaml:"drain_timeout" json:"drain_timeout"`
	// AllowNoListeners lets a reload apply a config without listeners,
	// draining every running one. Default false: such a reload is refused,
	// so that an empty or truncated file cannot empty a running proxy (a
	// file that lost its content cannot say true here). A sluice may start
	// without listeners either way.
	AllowNoListeners bool `yaml:"allow_no_listeners" json:"allow_no_listeners,omitempty"`

	source string         // the file name, for CheckFiles' errors
	lines  map[string]int // each decoded path's YAML line
	files  []fileRef      // path-tagged fields
	checks []fileCheck    // FileCheckers
	// sourcePath, when set, maps a path to the source's (SetSourcePaths).
	sourcePath func(string) string
}

// Admin configures the admin HTTP server.
type Admin struct {
	// Address is host:port; empty disables the admin server.
	Address string `yaml:"address" json:"address"`
}

// Listener is one bound address and the filter chains for its connections.
type Listener struct {
	// Name identifies the listener across reloads; required and unique.
	Name string `yaml:"name" json:"name"`
	// Address is host:port to bind (port 0 picks a free port).
	Address string `yaml:"address" json:"address"`
	// Filters is shorthand for a single filter chain with no match.
	Filters []FilterSpec `yaml:"filters" json:"filters,omitempty"`
	// FilterChains are chosen by Envoy's most-specific match (see
	// ChainMatch), not by their order.
	FilterChains []FilterChain `yaml:"filter_chains" json:"filter_chains,omitempty"`
	// DefaultFilterChain serves connections no chain matches (Envoy's
	// default_filter_chain); without it they are closed
	// (no_filter_chain_match).
	DefaultFilterChain *FilterChain `yaml:"default_filter_chain" json:"default_filter_chain,omitempty"`
	// ListenerFilters run in order on each accepted connection before a
	// chain is chosen (listener_filters.go).
	ListenerFilters []ListenerFilter `yaml:"listener_filters" json:"listener_filters,omitempty"`
	// MaxConnections caps the listener's open connections; more are closed
	// on accept and counted in downstream_cx_overflow. It is the config
	// analogue of Envoy's runtime key
	// envoy.resource_limits.listener.<name>.connection_limit (Envoy's v3
	// Listener has no field for it). 0: no limit.
	MaxConnections uint32 `yaml:"max_connections" json:"max_connections,omitempty"`
	// AccessLog, when set, writes one JSON line per closed connection.
	AccessLog *AccessLog `yaml:"access_log" json:"access_log,omitempty"`
	// ListenerFiltersTimeout bounds the time listener filters (and the
	// implicit ClientHello read) wait for a client's first bytes. Default
	// 15s; 0 disables the bound, as in Envoy.
	ListenerFiltersTimeout Duration `yaml:"listener_filters_timeout" json:"listener_filters_timeout"`
	// ContinueOnListenerFiltersTimeout treats a client that sent nothing in
	// time as plain text (for server-speaks-first protocols such as MySQL)
	// instead of closing it. Default false, as in Envoy.
	ContinueOnListenerFiltersTimeout bool `yaml:"continue_on_listener_filters_timeout" json:"continue_on_listener_filters_timeout,omitempty"`
	// PerConnectionBufferLimitBytes is Envoy's soft limit on what sluice
	// holds for one downstream connection (read and write buffers, decoded
	// requests and replies waiting to be written). Each filter says in its
	// README what it means there: reading stops (backpressure) while that
	// much is held, and a single protocol unit larger than it is streamed
	// through or refused. Default 1 MiB (Envoy's); at least 64 KiB (0,
	// Envoy's "no limit", is refused: sluice bounds every connection).
	PerConnectionBufferLimitBytes uint32 `yaml:"per_connection_buffer_limit_bytes" json:"per_connection_buffer_limit_bytes"`
}

// DefaultBufferLimit is per_connection_buffer_limit_bytes when not given,
// Envoy's default.
const DefaultBufferLimit = 1 << 20

// minBufferLimit is the smallest per_connection_buffer_limit_bytes
// accepted: the fixed buffers of the filters (tcp_proxy's reads of 32 and
// 64 KiB, redis' 64 KiB inline and header lines) fit under it, so every
// limit a config can give is honoured; less would only cost system calls.
const minBufferLimit = 64 << 10

// SetDefaults fills Envoy's listener defaults.
func (l *Listener) SetDefaults() {
	l.ListenerFiltersTimeout = Duration(15 * time.Second)
	l.PerConnectionBufferLimitBytes = DefaultBufferLimit
}

// Chains returns the listener's filter chains, the shorthand included.
func (l *Listener) Chains() []FilterChain {
	if len(l.Filters) > 0 {
		return []FilterChain{{Filters: l.Filters}}
	}
	return l.FilterChains
}

// FilterChain is a match and the filters run on connections it matches.
type FilterChain struct {
	Name    string       `yaml:"name" json:"name,omitempty"`
	Match   ChainMatch   `yaml:"match" json:"match"`
	TLS     *TLSContext  `yaml:"tls" json:"tls,omitempty"`
	Filters []FilterSpec `yaml:"filters" json:"filters"`
	// TransportSocketConnectTimeout bounds the TLS handshake of a chain
	// that terminates TLS (Envoy's transport_socket_connect_timeout);
	// expiry counts downstream_cx_transport_socket_connect_timeout.
	// Default (0) 15s: sluice bounds every handshake.
	TransportSocketConnectTimeout Duration `yaml:"transport_socket_connect_timeout" json:"transport_socket_connect_timeout,omitempty"`
}

// ChainMatch selects a filter chain, as Envoy's filter_chain_match does:
// criteria are looked at in Envoy's order (destination port, destination
// prefixes, server names, transport, application protocols, direct source
// prefixes, source type, source prefixes, source ports); at each level the
// most specific chains that fit are kept and an empty criterion matches
// anything but only when no chain is more specific. SNI and ALPN come from
// the TLS ClientHello, read without consuming it; http_inspector sets the
// application protocol of plain-text HTTP.
type ChainMatch struct {
	DestinationPort int `yaml:"destination_port" json:"destination_port,omitempty"`
	// DestinationPrefixes is Envoy's prefix_ranges: CIDRs of the local
	// (destination) address.
	DestinationPrefixes []string `yaml:"destination_prefixes" json:"destination_prefixes,omitempty"`
	ServerNames         []string `yaml:"server_names" json:"server_names,omitempty"`
	// TransportProtocol is "tls" or "raw_buffer"; empty matches both.
	TransportProtocol    string   `yaml:"transport_protocol" json:"transport_protocol,omitempty"`
	ApplicationProtocols []string `yaml:"application_protocols" json:"application_protocols,omitempty"`
	// DirectSourcePrefixes match the socket's peer, even when a PROXY
	// protocol header names another source.
	DirectSourcePrefixes []string `yaml:"direct_source_prefixes" json:"direct_source_prefixes,omitempty"`
	// SourceType is ANY (default), SAME_IP_OR_LOOPBACK or EXTERNAL.
	SourceType string `yaml:"source_type" json:"source_type,omitempty"`
	// SourcePrefixes match the client address (the PROXY header's source
	// when proxy_protocol read one).
	SourcePrefixes []string `yaml:"source_prefixes" json:"source_prefixes,omitempty"`
	SourcePorts    []int    `yaml:"source_ports" json:"source_ports,omitempty"`
}

// NeedsClientHello reports whether matching needs the TLS ClientHello.
func (m *ChainMatch) NeedsClientHello() bool {
	return len(m.ServerNames) > 0 || len(m.ApplicationProtocols) > 0 || m.TransportProtocol != ""
}

// ParseCIDR reads "addr/len" or a bare address (a /32 or /128).
func ParseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AccessLog writes JSON lines to a file ("/dev/stdout" works); a relative
// path is resolved against the config file's directory.
type AccessLog struct {
	Path string `yaml:"path" json:"path" sluice:"path,out"`
}

// FilterSpec is one filter of a chain: written in YAML as a one-key mapping of
// the filter's registered name to its typed config.
type FilterSpec struct {
	Name   string `json:"name"`
	Config any    `json:"config"`
	// kind is what DecodeNode found (0 not decoded, kindObserver,
	// kindTerminal); the order check reads it, so that filter types known
	// to one decode only (Decoder.Filters) count. A plain value, so that
	// reflect.DeepEqual still compares two parses of one config as equal.
	kind uint8
}

const (
	kindObserver uint8 = iota + 1
	kindTerminal
)

// DecodeNode decodes "{name: {config...}}" using the filter registry.
func (f *FilterSpec) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.fail(path, n, "a filter is a mapping with exactly one key, the filter name")
		return
	}
	f.Name = n.Content[0].Value
	ft, ok := lookupFilterType(d.Filters, f.Name)
	if !ok {
		d.fail(Join(path, f.Name), n.Content[0], "unknown filter %q (known: %v)", f.Name, filterTypeNames(d.Filters))
		return
	}
	f.kind = kindObserver
	if ft.Terminal {
		f.kind = kindTerminal
	}
	f.Config = ft.NewConfig()
	d.Decode(Join(path, f.Name), n.Content[1], f.Config)
}

// Validate checks the listener's own fields.
func (l *Listener) Validate(path string, errs *Errors) {
	if l.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	if err := CheckHostPort(l.Address, true); err != nil {
		errs.Add(Join(path, "address"), "%v", err)
	}
	checkBufferLimit(Join(path, "per_connection_buffer_limit_bytes"), l.PerConnectionBufferLimitBytes, errs)
	switch {
	case len(l.Filters) > 0 && len(l.FilterChains) > 0:
		errs.Add(path, "give either filters or filter_chains, not both")
	case len(l.Filters) == 0 && len(l.FilterChains) == 0 && l.DefaultFilterChain == nil:
		errs.Add(path, "a listener needs filters, filter_chains or default_filter_chain")
	case len(l.Filters) > 0:
		checkFilterOrder(Join(path, "filters"), l.Filters, errs)
	}
	for i := range l.FilterChains {
		fc := &l.FilterChains[i]
		p := Index(Join(path, "filter_chains"), i)
		if len(fc.Filters) == 0 {
			errs.Add(Join(p, "filters"), "a filter chain needs at least a terminal filter")
		}
		checkFilterOrder(Join(p, "filters"), fc.Filters, errs)
	}
	if fc := l.DefaultFilterChain; fc != nil {
		p := Join(path, "default_filter_chain")
		if len(fc.Filters) == 0 {
			errs.Add(Join(p, "filters"), "a filter chain needs at least a terminal filter")
		}
		checkFilterOrder(Join(p, "filters"), fc.Filters, errs)
		if len(l.Filters) > 0 {
			errs.Add(p, "give filter_chains with default_filter_chain, not the filters shorthand")
		}
	}
	checkChainOverlap(path, l.FilterChains, errs)
	checkListenerFilters(path, l.ListenerFilters, errs)
}

// checkBufferLimit refuses a per_connection_buffer_limit_bytes below
// minBufferLimit (0 included: Envoy reads it as "no limit").
func checkBufferLimit(path string, v uint32, errs *Errors) {
	if v < minBufferLimit {
		errs.Add(path, "must be at least %d (64 KiB), got %d", minBufferLimit, v)
	}
}

// checkFilterOrder insists that exactly the last filter is a terminal.
func checkFilterOrder(path string, fs []FilterSpec, errs *Errors) {
	for i, f := range fs {
		terminal := f.kind == kindTerminal
		if f.kind == 0 { // built in Go, not decoded
			ft, ok := lookupFilterType(nil, f.Name)
			if !ok {
				continue // reported by DecodeNode
			}
			terminal = ft.Terminal
		}
		last := i == len(fs)-1
		if last && !terminal {
			errs.Add(Join(Index(path, i), f.Name), "the last filter of a chain must be a terminal filter (such as tcp_proxy)")
		}
		if !last && terminal {
			errs.Add(Join(Index(path, i), f.Name), "a terminal filter must be the last of its chain")
		}
	}
}

// Validate checks the match's values.
func (m *ChainMatch) Validate(path string, errs *Errors) {
	for name, l := range map[string][]string{"source_prefixes": m.SourcePrefixes,
		"destination_prefixes": m.DestinationPrefixes, "direct_source_prefixes": m.DirectSourcePrefixes} {
		for i, p := range l {
			if _, err := ParseCIDR(p); err != nil {
				errs.Add(Index(Join(path, name), i), "invalid CIDR %q", p)
			}
		}
	}
	if m.DestinationPort < 0 || m.DestinationPort > 65535 {
		errs.Add(Join(path, "destination_port"), "must be 0..65535")
	}
	for i, p := range m.SourcePorts {
		if p < 1 || p > 65535 {
			errs.Add(Index(Join(path, "source_ports"), i), "must be 1..65535")
		}
	}
	switch m.SourceType {
	case "", "ANY", "SAME_IP_OR_LOOPBACK", "EXTERNAL":
	default:
		errs.Add(Join(path, "source_type"), "must be ANY, SAME_IP_OR_LOOPBACK or EXTERNAL, got %q", m.SourceType)
	}
	switch m.TransportProtocol {
	case "", "tls", "raw_buffer":
	default:
		errs.Add(Join(path, "transport_protocol"), "must be tls or raw_buffer, got %q", m.TransportProtocol)
	}
}

// SetDefaults fills the top-level defaults.
func (c *Config) SetDefaults() {
	if c.DrainTimeout == 0 {
		c.DrainTimeout = Duration(30 * time.Second)
	}
}

// Cluster returns the cluster of that name, or nil.
func (c *Config) Cluster(name string) *Cluster {
	for i := range c.Clusters {
		if c.Clusters[i].Name == name {
			return &c.Clusters[i]
		}
	}
	return nil
}

// String is for logs.
func (l *Listener) String() string { return fmt.Sprintf("listener %q on %s", l.Name, l.Address) }

// MarshalJSON renders the filter as it is written: {"<name>": {config}}.
func (f FilterSpec) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{f.Name: f.Config})
}
