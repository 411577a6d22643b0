package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// Well-known API keys the codec treats specially.
const (
	KeyProduce            int16 = 0
	KeyFetch              int16 = 1
	KeyMetadata           int16 = 3
	KeyControlledShutdown int16 = 7
	KeyFindCoordinator    int16 = 10
	KeyApiVersions        int16 = 18 //nolint:revive // Kafka's spelling.
	KeyDescribeCluster    int16 = 60
)

// apiInfo is what the header rules need to know about one API key, taken from
// kmsg once at start-up so that the hot path never allocates a kmsg message.
type apiInfo struct {
	known         bool
	maxVersion    int16
	firstFlexible int16 // -1: no flexible version
}

var apis = buildAPIs()

func buildAPIs() (t [len(apiNames)]apiInfo) {
	for k := range t {
		r := kmsg.RequestForKey(int16(k))
		if r == nil {
			continue
		}
		info := apiInfo{known: true, maxVersion: r.MaxVersion(), firstFlexible: -1}
		for v := int16(0); v <= info.maxVersion; v++ {
			r.SetVersion(v)
			if r.IsFlexible() {
				info.firstFlexible = v
				break
			}
		}
		t[k] = info
	}
	return t
}

func lookup(key int16) apiInfo {
	if key < 0 || int(key) >= len(apis) {
		return apiInfo{}
	}
	return apis[key]
}

// KnownAPI reports whether key is an API key this package (and kmsg) knows.
func KnownAPI(key int16) bool { return lookup(key).known }

// MaxVersion returns the highest version of key that kmsg can encode and
// decode, or -1 for an unknown key.
func MaxVersion(key int16) int16 {
	info := lookup(key)
	if !info.known {
		return -1
	}
	return info.maxVersion
}

// FirstFlexibleVersion returns the first version of key that uses flexible
// encoding (KIP-482), or -1 when no known version does.
func FirstFlexibleVersion(key int16) int16 {
	info := lookup(key)
	if !info.known {
		return -1
	}
	return info.firstFlexible
}

// IsFlexible reports whether version of key uses flexible encoding. Versions
// newer than kmsg knows are flexible when an older one already was, since
// Kafka never goes back.
func IsFlexible(key, version int16) bool {
	info := lookup(key)
	return info.known && info.firstFlexible >= 0 && version >= info.firstFlexible
}

// RequestHeaderVersion returns the request header version (0, 1 or 2) that a
// request of key at version carries: 0 only for ControlledShutdown v0, 2 for
// flexible versions, 1 otherwise (and for unknown keys).
func RequestHeaderVersion(key, version int16) int8 {
	switch {
	case key == KeyControlledShutdown && version == 0:
		return 0
	case IsFlexible(key, version):
		return 2
	default:
		return 1
	}
}

// ResponseHeaderVersion returns the response header version (0 or 1): 1 for
// flexible versions except ApiVersions, whose response header is always v0
// so that a client can read it before it knows what the broker supports.
func ResponseHeaderVersion(key, version int16) int8 {
	if key != KeyApiVersions && IsFlexible(key, version) {
		return 1
	}
	return 0
}
