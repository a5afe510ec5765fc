package guard

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the guard's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	rejections *prometheus.CounterVec
	lockouts   prometheus.Counter
	throttles  prometheus.Counter
	waves      *prometheus.CounterVec
	attack     prometheus.Gauge
	baseline   prometheus.Gauge
}

// NewMetrics registers the guard's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mamoru_guard_rejections_total",
			Help: "Attempts the checkpoint refused, by reason (throttle, captcha, locked)."}, []string{"reason"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "mamoru_guard_lockouts_total",
			Help: "Identifiers locked after failures."}),
		throttles: prometheus.NewCounter(prometheus.CounterOpts{Name: "mamoru_guard_throttles_total",
			Help: "Networks (IP, prefix, AS) throttled after failures."}),
		waves: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mamoru_guard_attack_waves_total",
			Help: "Attack modes turned on, by scope (global, ip, asn, device) and reason."}, []string{"scope", "reason"}),
		attack: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mamoru_guard_attack_mode",
			Help: "1 while global attack mode is on."}),
		baseline: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mamoru_guard_failure_baseline",
			Help: "Learned failed sign-ins per attack window outside waves."}),
	}
	for _, r := range []string{"throttle", "captcha", "locked"} {
		m.rejections.WithLabelValues(r)
	}
	reg.MustRegister(m.rejections, m.lockouts, m.throttles, m.waves, m.attack, m.baseline)
	return m
}

func (m *Metrics) reject(reason string) {
	if m != nil {
		m.rejections.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) lockout() {
	if m != nil {
		m.lockouts.Inc()
	}
}

func (m *Metrics) throttle(n int) {
	if m != nil {
		m.throttles.Add(float64(n))
	}
}

func (m *Metrics) wave(scope, why string) {
	if m != nil {
		m.waves.WithLabelValues(scope, why).Inc()
	}
}

func (m *Metrics) setAttack(on bool) {
	if m != nil {
		v := 0.0
		if on {
			v = 1
		}
		m.attack.Set(v)
	}
}

func (m *Metrics) setBaseline(v float64) {
	if m != nil {
		m.baseline.Set(v)
	}
}
