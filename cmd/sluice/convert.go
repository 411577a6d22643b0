package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/config/envoy"
)

// convert prints the config of file in the other form: --to sluice
// translates an Envoy bootstrap (or re-renders a sluice config) into
// sluice's YAML; --to envoy renders an Envoy v3 bootstrap.
func convert(file, format, to string, stdout, stderr io.Writer) int {
	parse, _ := envoy.Parser(format, func(file, msg string) { fmt.Fprintf(stderr, "%s: %s\n", file, msg) })
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "sluice convert:", err)
		return 1
	}
	cfg, err := parse(file, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if to == "sluice" && format != "sluice" && (format == "envoy" || envoy.IsBootstrap(data)) {
		if bs, err := envoy.Decode(file, data); err == nil && bs.GetDynamicResources() != nil {
			fmt.Fprintf(stderr, "%s: dynamic_resources: sluice's own format has no dynamic configuration (xDS, watched resource files); keep the Envoy bootstrap\n", file)
			return 1
		}
	}
	var out []byte
	switch to {
	case "sluice":
		out, err = config.MarshalYAML(cfg)
	case "envoy":
		out, err = envoy.MarshalYAML(cfg)
	default:
		fmt.Fprintf(stderr, "sluice convert: --to %q: want envoy or sluice\n", to)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return 1
	}
	stdout.Write(out)
	return 0
}
