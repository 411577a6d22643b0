package stats

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Filter selects stats for output, as Envoy's /stats query parameters do.
type Filter struct {
	Regexp   *regexp.Regexp // ?filter=
	UsedOnly bool           // ?usedonly
	Type     string         // ?type=Counters|Gauges|Histograms; empty for all
	// Buckets is ?histogram_buckets=: "" or "none" prints quantiles,
	// "cumulative" and "disjoint" print the buckets (text format).
	Buckets string
}

func (f Filter) keep(m metric) bool {
	in := m.info()
	if f.Regexp != nil && !f.Regexp.MatchString(in.name) {
		return false
	}
	switch v := m.(type) {
	case *Counter:
		return (f.Type == "" || f.Type == "Counters") && (!f.UsedOnly || v.used.Load())
	case *Gauge:
		return (f.Type == "" || f.Type == "Gauges") && (!f.UsedOnly || v.used.Load())
	case *Histogram:
		return (f.Type == "" || f.Type == "Histograms") && (!f.UsedOnly || v.count.Load() > 0)
	}
	return false
}

// quantiles are the ones Envoy prints for histograms.
var quantiles = []float64{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1}

// WriteText writes "name: value" lines as Envoy's /stats does: counters and
// gauges sorted by name, then histograms with their quantiles.
func (s *Store) WriteText(w io.Writer, f Filter) error {
	var b strings.Builder
	var hists []*Histogram
	for _, m := range s.snapshot() {
		if !f.keep(m) {
			continue
		}
		switch v := m.(type) {
		case *Counter:
			fmt.Fprintf(&b, "%s: %d\n", v.name, v.Value())
		case *Gauge:
			fmt.Fprintf(&b, "%s: %d\n", v.name, v.Value())
		case *Histogram:
			hists = append(hists, v)
		}
	}
	for _, h := range hists {
		d := h.Snapshot()
		if d.Count == 0 {
			fmt.Fprintf(&b, "%s: No recorded values\n", h.name)
			continue
		}
		b.WriteString(h.name + ":")
		switch f.Buckets {
		case "cumulative", "disjoint":
			// Envoy's "B<upper bound>(interval,cumulative)"; sluice has no
			// flush interval, so both numbers are since the start.
			var cum uint64
			for i, bound := range DefaultBuckets {
				n := d.Counts[i]
				if f.Buckets == "cumulative" {
					cum += n
					n = cum
				}
				fmt.Fprintf(&b, " B%s(%d,%d)", strconv.FormatFloat(bound, 'g', 6, 64), n, n)
			}
		default:
			for _, q := range quantiles {
				fmt.Fprintf(&b, " P%s(nan,%s)", fmtQ(q*100), fmtF(d.Quantile(q)))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtQ(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func fmtF(v float64) string {
	if math.IsNaN(v) {
		return "nan"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

type jsonStat struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

type jsonQuantile struct {
	Interval   *float64 `json:"interval"`
	Cumulative *float64 `json:"cumulative"`
}

type jsonHistogram struct {
	Name   string         `json:"name"`
	Values []jsonQuantile `json:"values"`
}

// WriteJSON writes Envoy's /stats?format=json shape:
// {"stats":[{"name":..,"value":..},...,{"histograms":{...}}]}.
func (s *Store) WriteJSON(w io.Writer, f Filter) error {
	stats := []any{}
	var hs []jsonHistogram
	for _, m := range s.snapshot() {
		if !f.keep(m) {
			continue
		}
		switch v := m.(type) {
		case *Counter:
			stats = append(stats, jsonStat{v.name, int64(v.Value())})
		case *Gauge:
			stats = append(stats, jsonStat{v.name, v.Value()})
		case *Histogram:
			d := v.Snapshot()
			jh := jsonHistogram{Name: v.name}
			for _, q := range quantiles {
				var jq jsonQuantile
				if d.Count > 0 {
					c := d.Quantile(q)
					jq.Cumulative = &c
				}
				jh.Values = append(jh.Values, jq)
			}
			hs = append(hs, jh)
		}
	}
	if hs != nil {
		sq := make([]float64, len(quantiles))
		for i, q := range quantiles {
			sq[i] = q * 100
		}
		stats = append(stats, map[string]any{"histograms": map[string]any{
			"supported_quantiles": sq, "computed_quantiles": hs}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(map[string]any{"stats": stats})
}
