// Package version reports sluice's version, from -ldflags or the Go build info.
package version

import "runtime/debug"

// Version is set at link time with -ldflags "-X .../version.Version=v1.2.3".
var Version = "dev"

// String returns the version and, when the build recorded it, the VCS revision.
func String() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}
