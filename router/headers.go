package router

import (
	"net/http"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// mutations are one level's (route, virtual host, configuration) header
// changes, compiled with canonical names.
type mutations struct {
	request, response headerOps
}

type headerOps struct {
	remove []string
	add    []headerAdd
}

type appendAction uint8

const (
	appendOrAdd appendAction = iota
	addIfAbsent
	overwriteOrAdd
	overwriteIfExists
)

type headerAdd struct {
	key, value string
	host       bool // the Host (":authority"), which net/http keeps apart
	action     appendAction
	keepEmpty  bool
}

func compileMutations(m config.HeaderMutations) mutations {
	return mutations{
		request:  compileOps(m.RequestHeadersToAdd, m.RequestHeadersToRemove),
		response: compileOps(m.ResponseHeadersToAdd, m.ResponseHeadersToRemove),
	}
}

func compileOps(adds []config.HeaderValueOption, removes []string) headerOps {
	var ops headerOps
	for _, h := range removes {
		ops.remove = append(ops.remove, http.CanonicalHeaderKey(h))
	}
	for _, o := range adds {
		a := headerAdd{key: http.CanonicalHeaderKey(o.Header.Key), value: o.Header.Value, keepEmpty: o.KeepEmptyValue}
		lk := strings.ToLower(o.Header.Key)
		a.host = lk == "host" || lk == ":authority"
		switch o.AppendAction {
		case "ADD_IF_ABSENT":
			a.action = addIfAbsent
		case "OVERWRITE_IF_EXISTS_OR_ADD":
			a.action = overwriteOrAdd
		case "OVERWRITE_IF_EXISTS":
			a.action = overwriteIfExists
		case "":
			// Envoy's deprecated append defaults to true (append).
			if o.Append != nil && !*o.Append {
				a.action = overwriteOrAdd
			}
		}
		ops.add = append(ops.add, a)
	}
	return ops
}

// apply removes, then adds, as Envoy's HeaderParser does. host is the
// request's Host (nil for responses).
func (o *headerOps) apply(h http.Header, host *string) {
	for _, k := range o.remove {
		delete(h, k)
	}
	for i := range o.add {
		a := &o.add[i]
		if a.value == "" && !a.keepEmpty {
			continue
		}
		if a.host && host != nil {
			if a.action != addIfAbsent || *host == "" {
				*host = a.value
			}
			continue
		}
		_, exists := h[a.key]
		switch a.action {
		case appendOrAdd:
			h[a.key] = append(h[a.key], a.value)
		case addIfAbsent:
			if !exists {
				h[a.key] = []string{a.value}
			}
		case overwriteOrAdd:
			h[a.key] = []string{a.value}
		case overwriteIfExists:
			if exists {
				h[a.key] = []string{a.value}
			}
		}
	}
}
