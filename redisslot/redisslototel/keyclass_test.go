package redisslototel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/redisslototel"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func TestDefaultKeyClassIsThePartBeforeTheFirstColon(t *testing.T) {
	for key, want := range map[string]string{
		"user:42": "user", "acct:7:eu": "acct", "plain": "", ":42": "", "": "",
	} {
		if got := redisslototel.DefaultKeyClass(key); got != want {
			t.Errorf("DefaultKeyClass(%q) = %q; want %q", key, got, want)
		}
	}
}

// closedLimiter returns a closed Limiter, instrumented with opts and a
// ManualReader: its calls return ErrClosed without contacting Redis, and
// each is recorded as one acquire.duration point with result closed.
func closedLimiter(t *testing.T, opts ...redisslototel.Option) (*redisslot.Limiter, *sdkmetric.ManualReader) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = c.Close() })
	l := redisslot.New(c, redisslot.Options{})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	if err := redisslototel.InstrumentMetrics(l, append(opts, redisslototel.WithMeterProvider(mp))...); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return l, reader
}

// However many classes the key class function makes, at most MaxKeyClasses
// are recorded; the rest go to OtherClass.
func TestKeyClassesAreBounded(t *testing.T) {
	identity := func(key string) string { return key }
	l, reader := closedLimiter(t, redisslototel.WithKeyClass(identity))
	n := redisslototel.MaxKeyClasses + 50
	for i := range n {
		if _, rel, err := l.TryAcquire(context.Background(), fmt.Sprintf("k%d", i), 1); err == nil { // closed: it fails
			rel()
		}
	}
	got := collect(t, reader)["redisslot.acquire.duration"]
	if len(got) != redisslototel.MaxKeyClasses+1 {
		t.Errorf("%d acquire.duration points; want %d", len(got), redisslototel.MaxKeyClasses+1)
	}
	if other := got["key_class=other,result=closed"]; other != 50 {
		t.Errorf("%v calls recorded as class other; want 50", other)
	}
}

// WithKeyClass names the class; an empty class is OtherClass.
func TestWithKeyClassNamesTheClass(t *testing.T) {
	tenant := func(key string) string {
		if strings.HasPrefix(key, "t") {
			return "tenant"
		}
		return ""
	}
	l, reader := closedLimiter(t, redisslototel.WithKeyClass(tenant))
	for _, key := range []string{"t1", "t2", "x"} {
		if _, rel, err := l.TryAcquire(context.Background(), key, 1); err == nil { // closed: it fails
			rel()
		}
	}
	got := collect(t, reader)
	want := map[string]float64{"key_class=tenant,result=closed": 2, "key_class=other,result=closed": 1}
	checkPoints(t, got, "redisslot.acquire.duration", want)
}

func TestInstrumentMetricsPanicsOnANilLimiter(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "redisslototel: ") {
			t.Errorf("InstrumentMetrics(nil) panicked with %q; want a message starting \"redisslototel: \"", msg)
		}
	}()
	_ = redisslototel.InstrumentMetrics(nil)
}
