// Package promtext reads a Prometheus text exposition, as served by the
// agent's /metrics, for the tools and end-to-end tests that watch a
// running agent from outside.
package promtext

import (
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sum is the sum over all label sets of the counter or gauge name.
// A metric that is absent sums to 0.
func Sum(r io.Reader, name string) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	var sum float64
	if f := fams[name]; f != nil {
		for _, m := range f.GetMetric() {
			sum += value(f.GetType(), m)
		}
	}
	return sum, nil
}

// SumURL fetches url (a /metrics endpoint) and returns Sum of name.
func SumURL(url, name string) (float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return Sum(resp.Body, name)
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	}
	return 0
}
