package jwtauthn

import (
	"context"
	"net/http"
)

// requirement checks a request, appending what verified to out; nil error
// lets the request pass.
type requirement func(ctx context.Context, r *http.Request, out *[]*verified) error

// compile turns a Requirement into its check (nil: nothing required).
func (f *Filter) compile(q *Requirement) requirement {
	switch {
	case q == nil:
		return nil
	case q.ProviderName != "":
		p := f.providers[q.ProviderName]
		return func(ctx context.Context, r *http.Request, out *[]*verified) error {
			v, err := p.verify(ctx, r)
			if err == nil {
				*out = append(*out, v)
			}
			return err
		}
	case q.RequiresAll != nil:
		subs := f.compileAll(q.RequiresAll.Requirements)
		return func(ctx context.Context, r *http.Request, out *[]*verified) error {
			for _, s := range subs {
				if err := s(ctx, r, out); err != nil {
					return err
				}
			}
			return nil
		}
	case q.RequiresAny != nil:
		subs := f.compileAll(q.RequiresAny.Requirements)
		return func(ctx context.Context, r *http.Request, out *[]*verified) error {
			var first error
			for _, s := range subs {
				err := s(ctx, r, out)
				if err == nil {
					return nil
				}
				// A token that failed says more than one that is missing.
				if first == nil || first == errMissing {
					first = err
				}
			}
			return first
		}
	case q.AllowMissing != nil:
		// Every provider's token is checked; none at all passes, an
		// invalid one fails.
		return func(ctx context.Context, r *http.Request, out *[]*verified) error {
			return f.anyProvider(ctx, r, out, false)
		}
	case q.AllowMissingOrFailed != nil:
		return func(ctx context.Context, r *http.Request, out *[]*verified) error {
			_ = f.anyProvider(ctx, r, out, true)
			return nil
		}
	}
	return nil
}

func (f *Filter) compileAll(qs []*Requirement) []requirement {
	out := make([]requirement, 0, len(qs))
	for _, q := range qs {
		if c := f.compile(q); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// anyProvider verifies every token any provider finds; with keepGoing a
// failure does not stop the others.
func (f *Filter) anyProvider(ctx context.Context, r *http.Request, out *[]*verified, keepGoing bool) error {
	var failed error
	for _, p := range f.providers {
		v, err := p.verify(ctx, r)
		switch {
		case err == nil:
			*out = append(*out, v)
		case err == errMissing, err == errIssuer: // another issuer's token
		case !keepGoing:
			return err
		default:
			failed = err
		}
	}
	return failed
}
