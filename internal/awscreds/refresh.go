package awscreds

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Timing of the fetched sources (web identity, container, instance
// profile). Variables so tests can shorten them.
var (
	// fetchTimeout bounds one fetch, the SDK's own retries included.
	fetchTimeout = 5 * time.Second
	// waitBound is the longest a request waits for a fetch when nothing
	// usable is cached yet; it then goes on unsigned (signing_failed).
	waitBound = 2 * time.Second
	// refreshBefore is how long before expiry a refresh is started.
	refreshBefore = 5 * time.Minute
	// noExpiryTTL is how long credentials without an expiry are kept
	// (Envoy caches those for an hour).
	noExpiryTTL = time.Hour
	// retryAfter spaces fetches after a failure (Envoy retries at most
	// once every 30 s until a fetch succeeds).
	retryAfter = 30 * time.Second
)

// fetched caches what a slow provider (an HTTP call to STS, ECS or IMDS)
// returns and refreshes it in the background before it expires: a request
// uses the cached value and never waits for a refresh; only when nothing
// usable is cached (the first request, or after expiry with the endpoint
// down) does it wait, at most waitBound, for the fetch in flight.
type fetched struct {
	label string
	p     aws.CredentialsProvider
	now   func() time.Time

	mu        sync.Mutex
	cur       aws.Credentials
	have      bool
	fetchedAt time.Time
	nextTry   time.Time
	inflight  chan struct{} // closed when the running fetch ends
	lastErr   error
	// counters for Envoy's credential_refreshes_*; nil when not wired.
	onResult func(ok bool)
}

func newFetched(label string, p aws.CredentialsProvider) *fetched {
	return &fetched{label: label, p: p, now: time.Now}
}

func (f *fetched) name() string { return f.label }

// usable reports whether cur may still sign at t.
func (f *fetched) usable(t time.Time) bool {
	return f.have && (!f.cur.CanExpire || t.Before(f.cur.Expires))
}

// stale reports whether a refresh is due at t.
func (f *fetched) stale(t time.Time) bool {
	if !f.have {
		return true
	}
	if f.cur.CanExpire {
		return !t.Before(f.cur.Expires.Add(-refreshBefore))
	}
	return t.Sub(f.fetchedAt) >= noExpiryTTL
}

func (f *fetched) get(ctx context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	t := f.now()
	if f.stale(t) && f.inflight == nil && !t.Before(f.nextTry) {
		f.start()
	}
	if f.usable(t) {
		c := f.cur
		f.mu.Unlock()
		return c, nil
	}
	ch := f.inflight
	f.mu.Unlock()
	if ch != nil {
		timer := time.NewTimer(waitBound)
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.usable(f.now()) {
		return f.cur, nil
	}
	if f.lastErr != nil {
		return aws.Credentials{}, f.lastErr
	}
	return aws.Credentials{}, errNone
}

// start runs one fetch in the background; f.mu is held. The goroutine
// ends within fetchTimeout.
func (f *fetched) start() {
	ch := make(chan struct{})
	f.inflight = ch
	go func() {
		defer close(ch)
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		c, err := f.p.Retrieve(ctx)
		cancel()
		if err == nil && !c.HasKeys() {
			err = errNone
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.inflight = nil
		if err != nil {
			f.lastErr, f.nextTry = err, f.now().Add(retryAfter)
		} else {
			f.cur, f.have, f.fetchedAt, f.lastErr, f.nextTry = c, true, f.now(), nil, time.Time{}
		}
		if f.onResult != nil {
			f.onResult(err == nil)
		}
	}()
}

// wait blocks until no fetch is running (tests and Close use it).
func (f *fetched) wait() {
	f.mu.Lock()
	ch := f.inflight
	f.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
