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
