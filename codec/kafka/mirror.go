package kafka

import "reflect"

// mirror fills a kmsg response struct from the request it answers: every
// int16 field named ErrorCode gets code, and every slice of structs gets one
// element per element of the matching request slice, with its identity
// fields (topic, partition, group, key...) copied. Request and response
// slices usually share a name (Topics, Partitions, Groups); renames is the
// exception list. Only identity fields are copied: fields that merely share
// a name (a Fetch partition's LogStartOffset, say) mean different things in
// a request and a response.
type mirror struct {
	key  int16
	code int16
}

// identity lists the fields copied from a request element to a response
// element, in the order tried when a request slice holds bare strings or
// int32s.
var identity = []string{
	"Topic", "TopicID", "Partition", "Group", "GroupID", "Key",
	"TransactionalID", "Name", "User", "Feature", "ResourceType", "ResourceName",
}

// aliases maps a response identity field to the request field it mirrors
// when the names differ.
var aliases = map[string]string{"User": "Name"}

type renameKey struct {
	api   int16
	field string
}

// renames maps a response slice to the request slices it mirrors when the
// names differ; elements of several request slices are concatenated.
var renames = map[renameKey][]string{
	{KeyFindCoordinator, "Coordinators"}: {"CoordinatorKeys"},
	{20, "Topics"}:                       {"Topics", "TopicNames"}, // DeleteTopics v0-v5 name topics as strings
	{30, "Results"}:                      {"Creations"},
	{31, "Results"}:                      {"Filters"},
	{50, "Results"}:                      {"Users"},
	{51, "Results"}:                      {"Deletions", "Upsertions"},
	{57, "Results"}:                      {"FeatureUpdates"},
	{65, "TransactionStates"}:            {"TransactionalIDs"},
	{77, "Groups"}:                       {"GroupIDs"},
}

type defaulter interface{ Default() }

func (m mirror) fill(resp, req reflect.Value) {
	t := resp.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), resp.Field(i)
		switch {
		case f.Name == "ErrorCode" && fv.Kind() == reflect.Int16:
			fv.SetInt(int64(m.code))
		case (f.Name == "NodeID" || f.Name == "Port") && fv.Kind() == reflect.Int32:
			fv.SetInt(-1) // Kafka's "no node" in error responses (FindCoordinator)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			m.fillSlice(f.Name, fv, req)
		}
	}
}

func (m mirror) fillSlice(name string, resp, req reflect.Value) {
	if !req.IsValid() {
		return
	}
	sources := renames[renameKey{m.key, name}]
	if sources == nil {
		sources = []string{name}
	}
	var elems []reflect.Value
	for _, src := range sources {
		rs := req.FieldByName(src)
		if rs.Kind() != reflect.Slice {
			continue
		}
		for j := 0; j < rs.Len(); j++ {
			elems = append(elems, rs.Index(j))
		}
	}
	if len(elems) == 0 {
		return
	}
	out := reflect.MakeSlice(resp.Type(), len(elems), len(elems))
	for j, src := range elems {
		dst := out.Index(j)
		if d, ok := dst.Addr().Interface().(defaulter); ok {
			d.Default()
		}
		if src.Kind() == reflect.Struct {
			copyIdentity(dst, src)
			m.fill(dst, src)
		} else {
			setFirstIdentity(dst, src)
			m.fill(dst, reflect.Value{})
		}
	}
	resp.Set(out)
}

// copyIdentity copies the identity fields src and dst share.
func copyIdentity(dst, src reflect.Value) {
	for _, name := range identity {
		d := dst.FieldByName(name)
		if !d.IsValid() {
			continue
		}
		s := src.FieldByName(name)
		if !s.IsValid() {
			if alias, ok := aliases[name]; ok {
				s = src.FieldByName(alias)
			}
		}
		if s.IsValid() {
			assign(d, s)
		}
	}
}

// setFirstIdentity stores a bare request element (a topic name, a group
// id, a partition number) in the first identity field that can hold it.
func setFirstIdentity(dst, v reflect.Value) {
	for _, name := range identity {
		if d := dst.FieldByName(name); d.IsValid() && assign(d, v) {
			return
		}
	}
}

// assign sets d from s when their types agree, allowing string to and from
// *string; it reports whether it did.
func assign(d, s reflect.Value) bool {
	switch {
	case s.Type() == d.Type():
		d.Set(s)
	case d.Kind() == reflect.Pointer && d.Type().Elem() == s.Type():
		p := reflect.New(s.Type())
		p.Elem().Set(s)
		d.Set(p)
	case s.Kind() == reflect.Pointer && s.Type().Elem() == d.Type():
		if !s.IsNil() {
			d.Set(s.Elem())
		}
	default:
		return false
	}
	return true
}
