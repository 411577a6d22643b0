package config

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ClusterRef is a reference from a filter config to a cluster, checked when
// the whole config is known. Filter configs that name clusters implement
// ClusterReferrer.
type ClusterRef struct {
	Path string
	Name string
	// Check, if set, judges the referenced cluster's config for this use
	// and returns a problem ("" for none), reported at Path: a check that
	// only config can fail runs at load, not on the first request.
	Check func(c *Cluster) string
}

// ClusterReferrer is implemented by filter configs that name clusters.
type ClusterReferrer interface {
	ClusterRefs(path string) []ClusterRef
}

// Load reads, decodes and checks a config file.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse decodes and checks a config. name is the file it was read from:
// errors name it, and relative file paths in the config are resolved
// against its directory.
func Parse(name string, data []byte) (*Config, error) {
	return ParseFilters(name, data, nil)
}

// ParseFilters is Parse that also knows the filter types extra, besides the
// registered ones (a server built with its own filters, proxy.Filters).
func ParseFilters(name string, data []byte, extra []FilterType) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		errs := &Errors{File: name}
		line, msg := syntaxError(err)
		errs.AddLine("", line, "invalid YAML: %s", msg)
		return nil, errs
	}
	return ParseNodeFilters(name, &root, extra)
}

// ParseNode is Parse of a YAML document already parsed (or built: the
// Envoy loader builds the tree it translated, skipping the YAML text).
func ParseNode(name string, root *yaml.Node) (*Config, error) {
	return ParseNodeFilters(name, root, nil)
}

// ParseNodeFilters is ParseNode that also knows the filter types extra.
func ParseNodeFilters(name string, root *yaml.Node, extra []FilterType) (*Config, error) {
	errs := &Errors{File: name}
	c := &Config{source: name}
	c.SetDefaults()
	d := &Decoder{Errs: errs, Dir: filepath.Dir(name), Filters: extra}
	if len(root.Content) > 0 {
		d.Decode("", root, c)
	}
	c.lines, c.files, c.checks = d.lines, d.files, d.checks
	c.check(errs)
	errs.fillLines(c.lines)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// check runs the cross-reference checks that need the whole config: unique
// names and addresses, clusters that filters name, admin address.
func (c *Config) check(errs *Errors) {
	if c.Admin.Address != "" {
		if err := CheckHostPort(c.Admin.Address, true); err != nil {
			errs.Add("admin.address", "%v", err)
		}
	}
	clusters := map[string]*Cluster{}
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		if clusters[cl.Name] != nil {
			errs.Add(Join(Index("clusters", i), "name"), "duplicate cluster name %q", cl.Name)
		}
		clusters[cl.Name] = cl
	}
	names, addrs := map[string]bool{}, map[string]bool{}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		lp := Index("listeners", i)
		if names[l.Name] {
			errs.Add(Join(lp, "name"), "duplicate listener name %q", l.Name)
		}
		names[l.Name] = true
		if addrs[l.Address] && !strings.HasSuffix(l.Address, ":0") {
			errs.Add(Join(lp, "address"), "address %s used by another listener", l.Address)
		}
		addrs[l.Address] = true
		for _, ch := range chainPaths(l, lp) {
			checkTLSTwice(ch, clusters, errs)
			for j, f := range ch.filters {
				r, ok := f.Config.(ClusterReferrer)
				if !ok {
					continue
				}
				for _, ref := range r.ClusterRefs(Join(Index(ch.path, j), f.Name)) {
					switch cl := clusters[ref.Name]; {
					case cl == nil:
						errs.Add(ref.Path, "no such cluster %q", ref.Name)
					case ref.Check != nil:
						if problem := ref.Check(cl); problem != "" {
							errs.Add(ref.Path, "cluster %q: %s", ref.Name, problem)
						}
					}
				}
			}
		}
	}
}

type chainPath struct {
	path    string
	filters []FilterSpec
}

func chainPaths(l *Listener, lp string) []chainPath {
	if len(l.Filters) > 0 {
		return []chainPath{{Join(lp, "filters"), l.Filters}}
	}
	out := make([]chainPath, len(l.FilterChains))
	for i, fc := range l.FilterChains {
		out[i] = chainPath{Join(Index(Join(lp, "filter_chains"), i), "filters"), fc.Filters}
	}
	return out
}

func isIPHostPort(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	_, err = netip.ParseAddr(host)
	return err == nil
}

func joinNames(names []string) string {
	sort.Strings(names)
	return strings.Join(names, ", ")
}
