package config

// Validate requires a name: the virtual cluster's stat name.
func (v *VirtualCluster) Validate(path string, errs *Errors) {
	if v.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
}

// checkRequireTLS checks a virtual host's require_tls.
func checkRequireTLS(path, v string, errs *Errors) {
	switch v {
	case "", "NONE", "EXTERNAL_ONLY", "ALL":
	default:
		errs.Add(Join(path, "require_tls"), "unknown value %q (NONE, EXTERNAL_ONLY, ALL)", v)
	}
}

// checkMirrors checks request_mirror_policies at path.
func checkMirrors(path string, ms []MirrorPolicy, errs *Errors) {
	for i := range ms {
		mp := Index(Join(path, "request_mirror_policies"), i)
		switch m := &ms[i]; {
		case (m.Cluster == "") == (m.ClusterHeader == ""):
			errs.Add(Join(mp, "cluster"), "set exactly one of cluster and cluster_header")
		case m.ClusterHeader != "":
			checkHeaderName(Join(mp, "cluster_header"), m.ClusterHeader, errs)
		}
		if f := ms[i].RuntimeFraction; f != nil {
			checkFraction(Join(mp, "runtime_fraction"), f, errs)
		}
	}
}

func appendMirrorClusters(out []string, ms []MirrorPolicy) []string {
	for _, m := range ms {
		if m.Cluster != "" {
			out = append(out, m.Cluster)
		}
	}
	return out
}
