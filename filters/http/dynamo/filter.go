// Package dynamo is Envoy's envoy.filters.http.dynamo: DynamoDB statistics
// per operation, per table, per error type, unprocessed batch keys and
// per-partition capacity, under http.<stat_prefix>.dynamodb. Bodies stream
// through untouched; up to max_body_bytes of each is copied aside and
// parsed by codec/dynamodb when the exchange ends (Envoy buffers the whole
// body instead).
package dynamo

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/codec/dynamodb"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			sc := stats.New().Root().Sub("http")
			if env != nil && env.Stats != nil {
				sc = env.Stats
			}
			return &Filter{limit: cfg.(*Config).MaxBodyBytes, sc: sc.Sub("dynamodb")}, nil
		},
	})
}

// Filter counts DynamoDB traffic; one is shared by every stream.
type Filter struct {
	limit int
	sc    *stats.Scope
	// scopes caches the stats of each (entity, status): entityStats.
	scopes sync.Map
}

// Wrap returns the counting handler.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := dynamodb.Operation(r.Header.Get("X-Amz-Target"))
		reqBody := &capture{limit: f.limit}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &teeBody{r: r.Body, c: reqBody}
		}
		rec := &recorder{ResponseWriter: w, c: &capture{limit: f.limit}}
		next.ServeHTTP(rec, r)
		f.account(op, reqBody, rec, time.Since(start))
	})
}

// account charges the stats of one finished exchange, as Envoy's
// onEncodeComplete does.
func (f *Filter) account(op string, reqBody *capture, rec *recorder, took time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	var table dynamodb.Table
	if b, over := reqBody.bytes(); over {
		f.sc.Counter("invalid_req_body").Inc()
	} else if len(b) > 0 {
		t, err := dynamodb.ParseRequest(op, b, f.limit)
		if err != nil {
			f.sc.Counter("invalid_req_body").Inc()
		}
		table = t
	}
	ms := float64(took.Milliseconds())
	if op != "" {
		f.charge("operation."+op, status, ms)
	} else {
		f.sc.Counter("operation_missing").Inc()
	}
	switch {
	case table.Name != "":
		f.charge("table."+table.Name, status, ms)
	case table.Multiple:
		f.sc.Counter("multiple_tables").Inc()
	default:
		f.sc.Counter("table_missing").Inc()
	}
	body, over := rec.c.bytes()
	if len(body) == 0 && !over {
		return
	}
	resp, err := dynamodb.ParseResponse(body, f.limit)
	if over || err != nil {
		f.sc.Counter("invalid_resp_body").Inc()
		return
	}
	if table.Name != "" && op != "" {
		for _, p := range resp.Partitions {
			f.sc.Counter(fmt.Sprintf("table.%s.capacity.%s.__partition_id=%s", table.Name, op, p.ID[len(p.ID)-7:])).Add(p.Capacity)
		}
	}
	if status/100 == 4 {
		switch {
		case resp.ErrorType == "":
			f.sc.Counter("empty_response_body").Inc()
		case table.Name == "":
			f.sc.Counter("error.no_table." + resp.ErrorType).Inc()
		default:
			f.sc.Counter("error." + table.Name + "." + resp.ErrorType).Inc()
		}
	}
	if dynamodb.IsBatch(op) {
		for _, t := range resp.Unprocessed {
			f.sc.Counter("error." + t + ".BatchFailureUnprocessedKeys").Inc()
		}
	}
}

// charge counts one request of an entity ("operation.GetItem",
// "table.users"): totals and times overall, per status class and per code.
func (f *Filter) charge(entity string, status int, ms float64) {
	es := f.entityStats(entity, status)
	es.total.Inc()
	es.totalGroup.Inc()
	es.totalCode.Inc()
	es.time.Record(ms)
	es.timeGroup.Record(ms)
	es.timeCode.Record(ms)
}

// entityStats are the six stats one request of an entity with one status
// touches, looked up once per (entity, status) and cached.
type entityStats struct {
	total, totalGroup, totalCode *stats.Counter
	time, timeGroup, timeCode    *stats.Histogram
}

type entityKey struct {
	entity string
	status int
}

func (f *Filter) entityStats(entity string, status int) *entityStats {
	k := entityKey{entity, status}
	if es, ok := f.scopes.Load(k); ok {
		return es.(*entityStats)
	}
	group := "unknown"
	if c := status / 100; c >= 1 && c <= 5 {
		group = fmt.Sprintf("%dxx", c)
	}
	sc := f.sc.Sub(entity)
	es := &entityStats{
		total: sc.Counter("upstream_rq_total"), totalGroup: sc.Counter("upstream_rq_total_" + group),
		totalCode: sc.Counter(fmt.Sprintf("upstream_rq_total_%d", status)),
		time:      sc.Histogram("upstream_rq_time"), timeGroup: sc.Histogram("upstream_rq_time_" + group),
		timeCode: sc.Histogram(fmt.Sprintf("upstream_rq_time_%d", status)),
	}
	actual, _ := f.scopes.LoadOrStore(k, es)
	return actual.(*entityStats)
}
