package config

import "strings"

// ThriftProtocolOptions is Envoy's ThriftProtocolOptions for a cluster:
// the upstream transport and protocol of thrift_proxy, each defaulting to
// the downstream one (AUTO_*).
type ThriftProtocolOptions struct {
	// Transport: AUTO_TRANSPORT (default), FRAMED, UNFRAMED, HEADER.
	Transport string `yaml:"transport" json:"transport,omitempty"`
	// Protocol: AUTO_PROTOCOL (default), BINARY, LAX_BINARY, COMPACT.
	Protocol string `yaml:"protocol" json:"protocol,omitempty"`
}

// Validate refuses unknown names and the unsupported TWITTER protocol.
func (o *ThriftProtocolOptions) Validate(path string, errs *Errors) {
	switch strings.ToUpper(o.Transport) {
	case "", "AUTO_TRANSPORT", "FRAMED", "UNFRAMED", "HEADER":
	default:
		errs.Add(Join(path, "transport"), "unknown transport %q (AUTO_TRANSPORT, FRAMED, UNFRAMED, HEADER)", o.Transport)
	}
	switch strings.ToUpper(o.Protocol) {
	case "", "AUTO_PROTOCOL", "BINARY", "LAX_BINARY", "COMPACT":
	case "TWITTER":
		errs.Add(Join(path, "protocol"), "TWITTER is not supported (Finagle's protocol upgrade is not implemented); use BINARY")
	default:
		errs.Add(Join(path, "protocol"), "unknown protocol %q (AUTO_PROTOCOL, BINARY, LAX_BINARY, COMPACT)", o.Protocol)
	}
}
