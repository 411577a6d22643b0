package stats

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the store to Prometheus with Envoy's naming: "envoy_"
// prefix, the tag-extracted name with non-alphanumerics turned into '_', and
// extracted tags as labels.
type Collector struct {
	store  *Store
	filter Filter
}

// NewCollector returns a prometheus.Collector over s. With usedOnly, stats
// never written are left out (Envoy's ?usedonly).
func NewCollector(s *Store, f Filter) *Collector { return &Collector{store: s, filter: f} }

// Describe sends nothing: the collector is unchecked, its stats come and go.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends every stat as a constant metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.store.snapshot() {
		if !c.filter.keep(m) {
			continue
		}
		in := m.info()
		names := make([]string, len(in.tags))
		values := make([]string, len(in.tags))
		for i, t := range in.tags {
			names[i], values[i] = t.Name, t.Value
		}
		desc := prometheus.NewDesc(PrometheusName(in.extracted), "", names, nil)
		switch v := m.(type) {
		case *Counter:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v.Value()), values...)
		case *Gauge:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v.Value()), values...)
		case *Histogram:
			d := v.Snapshot()
			buckets := make(map[float64]uint64, len(DefaultBuckets))
			var cum uint64
			for i, b := range DefaultBuckets {
				cum += d.Counts[i]
				buckets[b] = cum
			}
			ch <- prometheus.MustNewConstHistogram(desc, d.Count, d.Sum, buckets, values...)
		}
	}
}

// PrometheusName turns an extracted Envoy stat name into a Prometheus metric
// name: "cluster.upstream_cx_total" → "envoy_cluster_upstream_cx_total".
func PrometheusName(extracted string) string {
	var b strings.Builder
	b.Grow(len(extracted) + 6)
	b.WriteString("envoy_")
	for i := 0; i < len(extracted); i++ {
		c := extracted[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

var _ prometheus.Collector = (*Collector)(nil)
