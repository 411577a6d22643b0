package lb

import (
	"errors"

	"github.com/sluice-proxy/sluice/config"
)

// registerConfig tells the config loader about a policy: its lb_policy
// name and, when it has one, the cluster field its config block is decoded
// from. The loader then needs nothing of this package.
func registerConfig(f Factory) {
	pt := config.LBPolicyType{Name: f.Name, ConfigField: f.ConfigField}
	if f.ConfigField != "" {
		pt.NewConfig = func() any { return f.NewConfig() }
		pt.Validate = func(cfg any, path string, errs *config.Errors) {
			c, ok := cfg.(Config)
			if !ok {
				errs.Add(path, "config is %T, not a load balancer config", cfg)
				return
			}
			addConfigErrors(path, c.Validate(), errs)
		}
	}
	config.RegisterLBPolicy(pt)
}

// addConfigErrors reports each FieldError of err under path.
func addConfigErrors(path string, err error, errs *config.Errors) {
	if err == nil {
		return
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) {
			errs.Add(config.Join(path, fe.Field), "%s", fe.Reason)
		} else {
			errs.Add(path, "%v", e)
		}
	}
}
