package syncserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own (no globals).
type metrics struct {
	reg         *prometheus.Registry
	sessions    prometheus.Gauge
	pushes      prometheus.Counter
	ingested    prometheus.Counter
	pulled      prometheus.Counter
	pushSeconds prometheus.Histogram
	errors      *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hearth_sessions", Help: "Open sync sessions."}),
		pushes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_push_batches_total", Help: "Pushed batches acknowledged (retries included)."}),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_changes_ingested_total", Help: "Pushed changes received."}),
		pulled:   prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_changes_sent_total", Help: "Changes sent to replicas in pages and live fan-out."}),
		pushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hearth_push_seconds", Help: "Time to apply and commit a pushed batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_errors_total", Help: "Error frames sent, by code."}, []string{"code"}),
	}
	m.reg.MustRegister(m.sessions, m.pushes, m.ingested, m.pulled, m.pushSeconds, m.errors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
