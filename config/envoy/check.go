package envoy

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/config"
)

// check walks every set field of m: a field not in its message's table is
// refused, an ignored one warned about, a supported message checked in
// turn; each message's protoc-gen-validate rules run on the way.
func (t *translator) check(m protoreflect.Message, path string) {
	md := m.Descriptor()
	name := md.FullName()
	if leafTypes[name] {
		return
	}
	if name == "google.protobuf.Any" {
		inner, err := unpack(m)
		if err != nil {
			t.errs.Add(path, "%v", err)
			return
		}
		if specs[inner.Descriptor().FullName()] == nil {
			t.errs.Add(config.Join(path, "@type"), "%s: not supported by sluice here (its network filters: %s)", inner.Descriptor().FullName(), strings.Join(typeURLs(), ", "))
			return
		}
		t.check(inner, path)
		return
	}
	spec := specs[name]
	if spec == nil {
		t.errs.Add(path, "%s is not supported by sluice", name)
		return
	}
	t.validate(m, path)
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		fp := config.Join(path, string(fd.Name()))
		f := spec.field(fd.Name())
		switch {
		case f == nil:
			t.errs.Add(fp, "not supported by sluice")
			continue
		case f.ignored:
			w := fp + ": accepted and ignored by sluice"
			if f.note != "" {
				w += " (" + f.note + ")"
			}
			t.warnings = append(t.warnings, w)
			continue
		}
		if fd.Kind() != protoreflect.MessageKind {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				t.check(l.Get(j).Message(), config.Index(fp, j))
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					t.check(mv.Message(), config.Join(fp, k.String()))
					return true
				})
			}
		default:
			t.check(v.Message(), fp)
		}
	}
}

// validate runs the message's protoc-gen-validate rules and reports each
// violation of the message's own fields at its path; a violation inside an
// embedded message is reported when the walk reaches that message.
func (t *translator) validate(m protoreflect.Message, path string) {
	v, ok := m.Interface().(interface{ ValidateAll() error })
	if !ok {
		return
	}
	err := v.ValidateAll()
	if err == nil {
		return
	}
	list := []error{err}
	if me, ok := err.(interface{ AllErrors() []error }); ok {
		list = me.AllErrors()
	}
	for _, e := range list {
		ve, ok := e.(interface {
			Field() string
			Reason() string
			Cause() error
		})
		if !ok {
			t.errs.Add(path, "%v", e)
			continue
		}
		if ve.Cause() != nil && ve.Reason() == "embedded message failed validation" {
			continue
		}
		t.errs.Add(config.Join(path, protoPath(m.Descriptor(), ve.Field())), "%s", ve.Reason())
	}
}

// protoPath turns protoc-gen-validate's Go field name ("ConnectTimeout",
// "Listeners[0]") into the proto name ("connect_timeout", "listeners[0]").
func protoPath(md protoreflect.MessageDescriptor, goName string) string {
	base, rest := goName, ""
	if i := strings.IndexByte(goName, '['); i >= 0 {
		base, rest = goName[:i], goName[i:]
	}
	want := squash(base)
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		if squash(string(fds.Get(i).Name())) == want {
			return string(fds.Get(i).Name()) + rest
		}
	}
	oos := md.Oneofs()
	for i := 0; i < oos.Len(); i++ {
		if squash(string(oos.Get(i).Name())) == want {
			return string(oos.Get(i).Name()) + rest
		}
	}
	return goName
}

func squash(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// unpack resolves an Any among the types linked into sluice (the
// precheck has refused the others already).
func unpack(m protoreflect.Message) (protoreflect.Message, error) {
	p, err := m.Interface().(*anypb.Any).UnmarshalNew()
	if err != nil {
		return nil, err
	}
	return p.ProtoReflect(), nil
}
