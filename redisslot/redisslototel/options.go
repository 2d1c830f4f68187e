package redisslototel

import "go.opentelemetry.io/otel/metric"

// An Option configures InstrumentMetrics.
type Option func(*config)

type config struct {
	mp      metric.MeterProvider
	classOf func(key string) string
}

// WithMeterProvider makes the instruments with mp. Default: the global
// provider, [go.opentelemetry.io/otel.GetMeterProvider], read when
// InstrumentMetrics is called (a global provider set later is still used,
// through the global delegate). A nil mp means the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithKeyClass sets the function that names the class of a key, the value
// of the redisslot.key_class attribute. Default: [DefaultKeyClass]. It is
// called once per event, concurrently, and must be fast and must not
// block. A nil f means the default.
//
// Whatever f returns, at most [MaxKeyClasses] classes are recorded per
// InstrumentMetrics: the classes seen after those, and an empty class, are
// recorded as [OtherClass]. So a function that returned raw keys would
// still make a bounded number of series, but a useless one: return a
// class, such as "user" for "user:42".
func WithKeyClass(f func(key string) string) Option {
	return func(c *config) {
		if f != nil {
			c.classOf = f
		}
	}
}
