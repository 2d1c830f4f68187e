package redisslototel_test

import (
	"context"
	"fmt"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/redisslototel"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// This example instruments a Limiter and reads what it recorded through
// the SDK's ManualReader. So that it runs without Redis, the Limiter is
// closed first: the call is refused at once, and recorded with its key's
// class and its result, never its key.
func ExampleInstrumentMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	l := redisslot.New(rdb, redisslot.Options{})
	if err := redisslototel.InstrumentMetrics(l, redisslototel.WithMeterProvider(mp)); err != nil {
		panic(err)
	}
	l.Close()

	if _, release, err := l.TryAcquire(context.Background(), "user:42", 1); err != nil {
		fmt.Println(err)
	} else {
		release()
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			class, _ := p.Attributes.Value("redisslot.key_class")
			result, _ := p.Attributes.Value("redisslot.result")
			fmt.Println(m.Name, m.Unit, class.AsString(), result.AsString(), p.Count)
		}
	}
	// Output:
	// slots: limiter closed
	// redisslot.acquire.duration s user closed 1
}
