package envoy

import (
	"fmt"

	"github.com/sluice-proxy/sluice/config"
)

// Formats are the --config-format values: "" or "auto" tells the two
// apart by content (IsBootstrap), "envoy" and "sluice" force one.
var Formats = []string{"auto", "envoy", "sluice"}

// Parser returns the function that parses a config file of the given
// format; warn, when not nil, gets each warning of an Envoy file (fields
// accepted and ignored).
func Parser(format string, warn func(file, msg string)) (func(file string, data []byte) (*config.Config, error), error) {
	switch format {
	case "", "auto", "envoy", "sluice":
	default:
		return nil, fmt.Errorf("unknown config format %q (known: auto, envoy, sluice)", format)
	}
	return func(file string, data []byte) (*config.Config, error) {
		if format == "sluice" || (format != "envoy" && !IsBootstrap(data)) {
			return config.Parse(file, data)
		}
		cfg, warns, err := Parse(file, data)
		if warn != nil {
			for _, w := range warns {
				warn(file, w)
			}
		}
		return cfg, err
	}, nil
}
