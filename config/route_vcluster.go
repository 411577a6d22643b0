package config

// Validate requires a name: the virtual cluster's stat name.
func (v *VirtualCluster) Validate(path string, errs *Errors) {
	if v.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
}
