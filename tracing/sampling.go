package tracing

import (
	"context"
	"math/rand/v2"
	"strconv"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Reason is why a request is traced: Envoy's Tracing::Reason, carried from
// hop to hop in the 15th character of x-request-id (a UUID's version
// nibble), so every proxy on the way makes the same decision.
type Reason uint8

// The reasons, with their x-request-id characters.
const (
	NotTraceable  Reason = iota // '4', the UUID version
	Sampling                    // '9': random_sampling
	ServiceForced               // 'a': x-envoy-force-trace
	ClientForced                // 'b': x-client-trace-id with client_sampling
)

// reasonPos is where x-request-id carries the reason (Envoy's
// TRACE_BYTE_POSITION).
const reasonPos = 14

var reasonChars = [...]byte{NotTraceable: '4', Sampling: '9', ServiceForced: 'a', ClientForced: 'b'}

// ReasonOf reads the reason from a request id; an id that is not a UUID
// carries none.
func ReasonOf(rid string) Reason {
	if len(rid) != 36 {
		return NotTraceable
	}
	switch rid[reasonPos] {
	case '9':
		return Sampling
	case 'a':
		return ServiceForced
	case 'b':
		return ClientForced
	}
	return NotTraceable
}

// WithReason returns rid carrying r (rid unchanged when it is not a UUID).
func WithReason(rid string, r Reason) string {
	if len(rid) != 36 || rid[reasonPos] == reasonChars[r] {
		return rid
	}
	b := []byte(rid)
	b[reasonPos] = reasonChars[r]
	return string(b)
}

// ridInteger is Envoy's UUID request id as a number: its first 8 hex
// digits, so every hop draws the same random_sampling result for it.
func ridInteger(rid string) (uint64, bool) {
	if len(rid) != 36 {
		return 0, false
	}
	v, err := strconv.ParseUint(rid[:8], 16, 64)
	return v, err == nil
}

// per10k is a Percent as Envoy evaluates it: a numerator over 10,000.
func per10k(p *float64) uint64 {
	if p == nil {
		return 10000
	}
	return uint64(*p*100 + 0.5)
}

// Decide is Envoy's mutateTracingRequestHeader: given the request id and
// whether x-client-trace-id and x-envoy-force-trace are present, the
// reason to trace and the request id carrying it. A request whose id
// already carries a reason (an earlier hop decided) keeps it; otherwise
// a client trace id (at client_sampling), then force-trace, then
// random_sampling on the id decide; overall_sampling then caps all.
func (s sampling) Decide(rid string, clientTraceID, forceTrace bool) (Reason, string) {
	n, ok := ridInteger(rid)
	if !ok {
		return NotTraceable, rid
	}
	result := n % 10000
	reason := ReasonOf(rid)
	if reason == NotTraceable {
		switch {
		case clientTraceID && rand.Uint64N(10000) < s.client:
			reason = ClientForced
		case forceTrace:
			reason = ServiceForced
		case result < s.random:
			reason = Sampling
		}
	}
	if reason != NotTraceable && result >= s.overall {
		reason = NotTraceable
	}
	return reason, WithReason(rid, reason)
}

// sampling holds the three percentages as numerators over 10,000.
type sampling struct{ client, random, overall uint64 }

func newSampling(c *Config) sampling {
	return sampling{client: per10k(c.ClientSampling), random: per10k(c.RandomSampling), overall: per10k(c.OverallSampling)}
}

// decisionKey carries the sampling decision of a span about to start to
// decisionSampler: the decision is Envoy's, made before the span exists.
type decisionKey struct{}

func withDecision(ctx context.Context, sampled bool) context.Context {
	return context.WithValue(ctx, decisionKey{}, sampled)
}

// decisionSampler samples what the context says: a child of a remote or
// local parent follows the parent's flag (Envoy's OpenTelemetry tracer
// does), a root follows the decision put in the context.
type decisionSampler struct{}

func (decisionSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	psc := trace.SpanContextFromContext(p.ParentContext)
	sampled := psc.IsSampled()
	if !psc.IsValid() {
		sampled, _ = p.ParentContext.Value(decisionKey{}).(bool)
	}
	d := sdktrace.Drop
	if sampled {
		d = sdktrace.RecordAndSample
	}
	return sdktrace.SamplingResult{Decision: d, Tracestate: psc.TraceState()}
}

func (decisionSampler) Description() string { return "EnvoyDecision" }
