package envoy

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/config"
)

// check walks every set field of m: a field not in its message's table is
// refused, an ignored one warned about, a supported message checked in
// turn. protoc-gen-validate's rules run once from the top (ValidateAll
// descends into embedded messages itself; running it again at each level
// cost a large xDS update several times over) and again inside each Any,
// which they do not open.
func (t *translator) check(m protoreflect.Message, path string) {
	t.validate(m, path)
	t.depth++
	t.walk(m, path)
	t.depth--
	if t.depth > 0 {
		return // inside an Any: the outermost check reports what is left
	}
	for _, p := range sortedKeys(t.viol) { // under fields the walk did not enter
		t.flushViolations(p)
	}
}

// flushViolations reports the rule violations of the message at path, in
// the walk's order (the problems of a file read top to bottom).
func (t *translator) flushViolations(path string) {
	for _, v := range t.viol[path] {
		t.errs.Add(v[0], "%s", v[1])
	}
	delete(t.viol, path)
}

func (t *translator) walk(m protoreflect.Message, path string) {
	t.flushViolations(path)
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
				t.walk(l.Get(j).Message(), config.Index(fp, j))
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					t.walk(mv.Message(), config.Join(fp, k.String()))
					return true
				})
			}
		default:
			t.walk(v.Message(), fp)
		}
	}
}

// validate runs the message's protoc-gen-validate rules and reports each
// violation at its path, following the chain of embedded-message failures
// down to the field that broke a rule.
func (t *translator) validate(m protoreflect.Message, path string) {
	v, ok := m.Interface().(interface{ ValidateAll() error })
	if !ok {
		return
	}
	if err := v.ValidateAll(); err != nil {
		t.violations(err, m.Descriptor(), path)
	}
}

// violations reports err, a validation error of a message of type md at
// path.
func (t *translator) violations(err error, md protoreflect.MessageDescriptor, path string) {
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
		fp := config.Join(path, protoPath(md, ve.Field()))
		if ve.Cause() != nil && ve.Reason() == "embedded message failed validation" {
			base := protoPath(md, ve.Field())
			if i := strings.IndexByte(base, '['); i >= 0 {
				base = base[:i]
			}
			if fd := md.Fields().ByName(protoreflect.Name(base)); fd != nil && fd.Message() != nil {
				child := fd.Message()
				if fd.IsMap() {
					child = fd.MapValue().Message()
				}
				if child != nil {
					t.violations(ve.Cause(), child, fp)
					continue
				}
			}
		}
		if t.viol == nil {
			t.viol = map[string][][2]string{}
		}
		t.viol[path] = append(t.viol[path], [2]string{fp, ve.Reason()})
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
