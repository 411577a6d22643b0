package mysql

import (
	"runtime"
	"sync"
	"weak"
)

// filterCaches holds each live Filter's parse cache, keyed weakly so that
// a filter retired by a reload takes its cache with it. It stands in for a
// field of Filter (mysql.go) sized from the config, until the config has a
// parse_cache_size.
var filterCaches sync.Map // weak.Pointer[Filter] → *parseCache

// cacheOf returns f's parse cache, shared by all its connections, making
// it at the first call.
func cacheOf(f *Filter) *parseCache {
	k := weak.Make(f)
	if pc, ok := filterCaches.Load(k); ok {
		return pc.(*parseCache)
	}
	pc, loaded := filterCaches.LoadOrStore(k, newParseCache(DefaultParseCacheSize))
	if !loaded {
		runtime.AddCleanup(f, func(k weak.Pointer[Filter]) { filterCaches.Delete(k) }, k)
	}
	return pc.(*parseCache)
}
