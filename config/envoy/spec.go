package envoy

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// field is one field of an Envoy message that sluice reads or ignores. A
// field set in a file but absent from its message's table is refused with
// its JSON path and "not supported by sluice".
type field struct {
	// name is the proto field name ("connect_timeout").
	name string
	// ignored fields are accepted and have no effect; loading warns once
	// per field set.
	ignored bool
	// to is sluice's field name when it differs; "-" when the message's
	// translate function reads the field itself.
	to string
	// note is one line for docs/envoy-compat.md.
	note string
}

// message is the loader's table entry for one Envoy message type.
type message struct {
	name   protoreflect.FullName
	fields []field
	// translate, when set, builds sluice's value for the message; without
	// it the supported fields are copied under their (to) names.
	translate func(t *translator, m protoreflect.Message, env, slu string) any
	// note is one line for docs/envoy-compat.md.
	note string
}

func (m *message) field(name protoreflect.Name) *field {
	for i := range m.fields {
		if m.fields[i].name == string(name) {
			return &m.fields[i]
		}
	}
	return nil
}

// Shorthands for the tables.
func ok(name string) field            { return field{name: name} }
func okNote(name, note string) field  { return field{name: name, note: note} }
func as(name, to string) field        { return field{name: name, to: to} }
func own(name, note string) field     { return field{name: name, to: "-", note: note} }
func ignored(name, note string) field { return field{name: name, ignored: true, note: note} }
func oks(names ...string) []field {
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = ok(n)
	}
	return out
}

// specs indexes every table by message name. It is filled in init: the
// tables name translate functions that read it.
var specs map[protoreflect.FullName]*message

func init() {
	specs = indexSpecs(bootstrapSpecs, tlsSpecs, clusterSpecs, healthSpecs, filterSpecs, rbacSpecs, routeSpecs, listenerSpecs, upstreamSpecs, runtimeSpecs, upstreamHTTPSpecs, httpSpecs, xdsSpecs, httpFilterSpecs, egressSpecs, prioritySpecs, xdsRateLimitSpecs, tracingSpecs)
}

func indexSpecs(lists ...[]message) map[protoreflect.FullName]*message {
	out := map[protoreflect.FullName]*message{}
	for _, l := range lists {
		for i := range l {
			m := &l[i]
			if out[m.name] != nil {
				panic(fmt.Sprintf("envoy: message %s in two tables", m.name))
			}
			out[m.name] = m
		}
	}
	return out
}

// leafTypes are well-known types read as values.
var leafTypes = map[protoreflect.FullName]bool{
	"google.protobuf.Duration": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.UInt64Value": true, "google.protobuf.Int32Value": true,
	"google.protobuf.Int64Value": true, "google.protobuf.BoolValue": true,
	"google.protobuf.StringValue": true, "google.protobuf.DoubleValue": true,
	"google.protobuf.FloatValue": true, "google.protobuf.Empty": true,
}

// filterNames maps each typed_config type sluice has a filter for to the
// filter's registered name.
var filterNames = map[protoreflect.FullName]string{
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy": "tcp_proxy",
	hcmMessage: "http_connection_manager",
	"envoy.extensions.filters.network.redis_proxy.v3.RedisProxy":            "redis_proxy",
	"envoy.extensions.filters.network.postgres_proxy.v3alpha.PostgresProxy": "postgres_proxy",
	"envoy.extensions.filters.network.mysql_proxy.v3.MySQLProxy":            "mysql_proxy",
	"envoy.extensions.filters.network.rbac.v3.RBAC":                         "rbac",
	"envoy.extensions.filters.network.kafka_broker.v3.KafkaBroker":          "kafka_broker",
	"envoy.extensions.filters.network.kafka_mesh.v3alpha.KafkaMesh":         "kafka_mesh",
	"envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit":  "connection_limit",
	"envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit":    "local_ratelimit",
}

// typeURLs lists the network filter types sluice has, for errors.
func typeURLs() []string {
	var out []string
	for n := range filterNames {
		out = append(out, string(n))
	}
	sort.Strings(out)
	return out
}
