package config

import (
	"fmt"
	"sort"
	"sync"
)

// FilterType is what the loader must know of a filter to decode and check its
// config. The filters package registers one for every filter factory, so that
// this package stays a leaf that every other package may import.
type FilterType struct {
	Name     string
	Terminal bool
	// NewConfig returns a pointer to a fresh typed config with defaults set.
	NewConfig func() any
}

var (
	ftMu        sync.RWMutex
	filterTypes = map[string]FilterType{}
)

// RegisterFilterType adds a filter's config type; it panics on an empty or
// duplicate name or a nil constructor.
func RegisterFilterType(ft FilterType) {
	if ft.Name == "" || ft.NewConfig == nil {
		panic("config: RegisterFilterType needs a name and NewConfig")
	}
	ftMu.Lock()
	defer ftMu.Unlock()
	if _, dup := filterTypes[ft.Name]; dup {
		panic(fmt.Sprintf("config: filter type %q registered twice", ft.Name))
	}
	filterTypes[ft.Name] = ft
}

// lookupFilterType finds name among extra (a server's own filter types,
// see ParseFilters) and then the registry.
func lookupFilterType(extra []FilterType, name string) (FilterType, bool) {
	for _, ft := range extra {
		if ft.Name == name {
			return ft, true
		}
	}
	ftMu.RLock()
	defer ftMu.RUnlock()
	ft, ok := filterTypes[name]
	return ft, ok
}

func filterTypeNames(extra []FilterType) []string {
	ftMu.RLock()
	defer ftMu.RUnlock()
	out := make([]string, 0, len(filterTypes)+len(extra))
	for n := range filterTypes {
		out = append(out, n)
	}
	for _, ft := range extra {
		out = append(out, ft.Name)
	}
	sort.Strings(out)
	return out
}
