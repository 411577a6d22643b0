package envoy

import (
	"os"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

const compatFile = "../../docs/envoy-compat.md"

// TestCompatDoc keeps docs/envoy-compat.md equal to what the loader's
// tables say; -update rewrites it.
func TestCompatDoc(t *testing.T) {
	got := CompatDoc()
	if *update {
		if err := os.WriteFile(compatFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(compatFile)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s is out of date with the loader's tables: go test ./config/envoy -run TestCompatDoc -update", compatFile)
	}
}

// TestTablesNameRealFields: every table entry names a linked message and
// fields it has, and every supported message-typed field leads to a table
// or a well-known type, so that the check never meets, in a supported
// place, a message it has no table for.
func TestTablesNameRealFields(t *testing.T) {
	for name, m := range specs {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Errorf("%s: not linked: %v", name, err)
			continue
		}
		md := d.(protoreflect.MessageDescriptor)
		for _, f := range m.fields {
			fd := md.Fields().ByName(protoreflect.Name(f.name))
			if fd == nil {
				t.Errorf("%s has no field %q", name, f.name)
				continue
			}
			if f.ignored || fd.Kind() != protoreflect.MessageKind {
				continue
			}
			if fd.IsMap() {
				fd = fd.MapValue()
				if fd.Kind() != protoreflect.MessageKind {
					continue
				}
			}
			sub := fd.Message().FullName()
			if specs[sub] == nil && !leafTypes[sub] && sub != "google.protobuf.Any" {
				t.Errorf("%s.%s: message %s has no table", name, f.name, sub)
			}
		}
	}
}

// TestCompatDocCoversTables: every message the loader has a table for is
// in the generated document (a table added without a docGroups entry
// would be supported but undocumented).
func TestCompatDocCoversTables(t *testing.T) {
	doc := map[protoreflect.FullName]bool{}
	for _, g := range docGroups() {
		for _, m := range g.list {
			doc[m.name] = true
		}
	}
	for name := range specs {
		if !doc[name] {
			t.Errorf("%s has a loader table but no section in docs/envoy-compat.md: add its list to docGroups", name)
		}
	}
}
