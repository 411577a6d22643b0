package rbac

// engine is one compiled Rules.
type engine struct {
	action   string
	policies []*policy
}

func newEngine(r *Rules) (*engine, bool) {
	if r == nil {
		return nil, false
	}
	action := r.Action
	if action == "" {
		action = "ALLOW"
	}
	ps, hasSQL := compilePolicies(r.Policies)
	return &engine{action: action, policies: ps}, hasSQL
}

// decision is an engine's answer: allowed, whether a policy matched, and
// the first matching policy's name.
type decision struct {
	allowed bool
	matched bool
	policy  string
}

// decide applies the action to the policies' matches. An unknown match (a
// sql permission at connect time) neither matches for DENY nor fails for
// ALLOW.
func (e *engine) decide(f *facts) decision {
	var d decision
	maybe := false
	for _, p := range e.policies {
		switch p.match(f) {
		case yes:
			d.matched, d.policy = true, p.name
		case unknown:
			maybe = true
			continue
		default:
			continue
		}
		break
	}
	switch e.action {
	case "DENY":
		d.allowed = !d.matched
	case "LOG":
		d.allowed = true
	default: // ALLOW
		d.allowed = d.matched || maybe
	}
	return d
}
