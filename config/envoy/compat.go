package envoy

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// CompatDoc renders docs/envoy-compat.md from the loader's tables: for each
// Envoy message sluice reads, every field of the message with what the
// loader does with it. compat_test.go keeps the file equal to it.
func CompatDoc() string {
	var b strings.Builder
	b.WriteString(`# Envoy v3 compatibility

Generated from the loader's tables (config/envoy/spec*.go) by
` + "`go test ./config/envoy -run TestCompatDoc -update`" + `; do not edit by hand.

sluice reads an Envoy v3 bootstrap (YAML or JSON; ` + "`sluice -c envoy.yaml`" + `, detected by
its top-level keys or forced with ` + "`-config-format envoy`" + `). Each message is decoded with
Envoy's generated protos (go-control-plane) and its validation rules run. Then every
field that is set is looked up here:

- **supported**: translated into sluice's config and honoured.
- **ignored**: accepted with a one-line warning at load; it has no effect.
- **refused**: the load fails with the field's JSON path and "not supported by sluice".

A message not listed is refused wherever it appears. Enum values are read
case-insensitively, as Envoy does; sluice's own checks then apply (an ` + "`lb_policy`" + ` or
cluster ` + "`type`" + ` sluice lacks, such as ` + "`ORIGINAL_DST`" + `, is refused by them).

## Network filters (typed_config @type)

| @type | sluice filter |
|---|---|
`)
	var types []string
	for n := range filterNames {
		types = append(types, string(n))
	}
	sort.Strings(types)
	for _, n := range types {
		fmt.Fprintf(&b, "| `type.googleapis.com/%s` | `%s` |\n", n, filterNames[protoreflect.FullName(n)])
	}
	for _, group := range docGroups() {
		fmt.Fprintf(&b, "\n## %s\n", group.title)
		for i := range group.list {
			writeMessage(&b, &group.list[i])
		}
	}
	return b.String()
}

func writeMessage(b *strings.Builder, m *message) {
	fmt.Fprintf(b, "\n### `%s`\n\n", m.name)
	if m.note != "" {
		fmt.Fprintf(b, "%s\n\n", m.note)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(m.name)
	if err != nil {
		fmt.Fprintf(b, "(descriptor not linked: %v)\n", err)
		return
	}
	md := d.(protoreflect.MessageDescriptor)
	fds := md.Fields()
	if fds.Len() == 0 {
		b.WriteString("No fields.\n")
		return
	}
	b.WriteString("| field | sluice | note |\n|---|---|---|\n")
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		status, note := "refused", ""
		if f := m.field(fd.Name()); f != nil {
			status, note = "supported", f.note
			if f.ignored {
				status = "ignored"
			}
			if f.to != "" && f.to != "-" {
				note = strings.TrimPrefix(note+"; sluice's `"+f.to+"`", "; ")
			}
		}
		if fd.Options() != nil && isDeprecated(fd) {
			note = strings.TrimPrefix(note+"; deprecated in Envoy", "; ")
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", fd.Name(), status, note)
	}
}

func isDeprecated(fd protoreflect.FieldDescriptor) bool {
	type deprecated interface{ GetDeprecated() bool }
	o, ok := fd.Options().(deprecated)
	return ok && o.GetDeprecated()
}

// docGroup is one section of docs/envoy-compat.md.
type docGroup struct {
	title string
	list  []message
}

// docGroups lists every loader table under a title; TestCompatDocCoversTables
// fails when a table is indexed in specs but left out here.
func docGroups() []docGroup {
	return []docGroup{
		{"Bootstrap, admin, listeners", bootstrapSpecs},
		{"Listener filters and filter chain matching", listenerSpecs},
		{"Runtime", runtimeSpecs},
		{"TLS and data sources", tlsSpecs},
		{"Clusters", clusterSpecs},
		{"Endpoints: priorities and localities", prioritySpecs},
		{"Cluster transport sockets", upstreamSpecs},
		{"Cluster HTTP protocol options", upstreamHTTPSpecs},
		{"Health checks", healthSpecs},
		{"Filters", filterSpecs},
		{"Thrift", thriftSpecs},
		{"RBAC", rbacSpecs},
		{"HTTP route tables", routeSpecs},
		{"HTTP connection manager", httpSpecs},
		{"HTTP filters", httpFilterSpecs},
		{"HTTP filters: gRPC", append(append([]message(nil), grpcHTTPSpecs...), grpcBridgeSpecs...)},
		{"HTTP filters: ext_authz", extAuthzSpecs},
		{"HTTP filters: global rate limit", rateLimitSpecs},
		{"HTTP filters: header_to_metadata", headerMetaSpecs},
		{"HTTP filters: brotli", brotliSpecs},
		{"HTTP filters: rbac per route", rbacRouteSpecs},
		{"Tracing", tracingSpecs},
		{"HTTP egress (CONNECT, dynamic forward proxy)", egressSpecs},
		{"Dynamic resources (xDS, config/xds)", xdsSpecs},
		{"Control-plane rate limit", xdsRateLimitSpecs},
	}
}
