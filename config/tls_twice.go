package config

// UpstreamTLSOwner is implemented by filter configs that speak TLS to the
// upstream themselves, inside their protocol (postgres_proxy's and
// mysql_proxy's upstream_ssl: the database asks for TLS in its own
// handshake). Such a filter's chain must not reach a cluster with a tls
// block: the cluster would handshake first and the filter's TLS would run
// inside it, which no server speaks.
type UpstreamTLSOwner interface {
	// UpstreamTLSPath returns the field path (under path) of the setting
	// that turns the filter's own upstream TLS on, "" while it is off.
	UpstreamTLSPath(path string) string
}

// checkTLSTwice refuses a chain whose filter owns upstream TLS while a
// cluster its filters name has a tls block.
func checkTLSTwice(ch chainPath, clusters map[string]*Cluster, errs *Errors) {
	var owner string
	for j, f := range ch.filters {
		if o, ok := f.Config.(UpstreamTLSOwner); ok {
			if p := o.UpstreamTLSPath(Join(Index(ch.path, j), f.Name)); p != "" {
				owner = p
				break
			}
		}
	}
	if owner == "" {
		return
	}
	for j, f := range ch.filters {
		r, ok := f.Config.(ClusterReferrer)
		if !ok {
			continue
		}
		for _, ref := range r.ClusterRefs(Join(Index(ch.path, j), f.Name)) {
			if cl := clusters[ref.Name]; cl != nil && cl.TLS != nil {
				errs.Add(owner, "cluster %q (at %s) has a tls block too: TLS would run twice; drop one of them", ref.Name, ref.Path)
			}
		}
	}
}
