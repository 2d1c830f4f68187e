package redisslototel_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/redisslototel"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const (
	testLease = time.Second      // renewed every 333ms: a deleted member is found fast
	waitLong  = 30 * time.Second // hang guard for real-time waits
)

// rawKeys are the keys the scenario uses; no attribute value may be one.
var rawKeys = []string{"user:42", "acct:7", "job:9", "plain"}

// points is what the reader collected, by instrument name and then by the
// attributes of a point, written "k=v,k=v" in sorted key order.
type points map[string]map[string]float64

// collect reads every instrument of scope ScopeName: a sum's value, or a
// histogram's count. It fails t if a point has an attribute other than
// those allowed, or one whose value is a raw key.
func collect(t *testing.T, r *sdkmetric.ManualReader) points {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := points{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != redisslototel.ScopeName {
			t.Errorf("scope %q; want %q", sm.Scope.Name, redisslototel.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = map[string]float64{}
			add := func(attrs attribute.Set, v float64) {
				out[m.Name][attrString(t, m.Name, attrs)] += v
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes, float64(p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes, float64(p.Count))
				}
			default:
				t.Errorf("%s: data of type %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// attrString writes attrs as "k=v,k=v", checking each against the allowed
// keys and the raw keys.
func attrString(t *testing.T, name string, attrs attribute.Set) string {
	t.Helper()
	var parts []string
	for _, kv := range attrs.ToSlice() {
		switch kv.Key {
		case "redisslot.key_class", "redisslot.result", "redisslot.end":
		default:
			t.Errorf("%s: attribute %s; want only redisslot.key_class, .result, .end", name, kv.Key)
		}
		v := kv.Value.String()
		if slices.Contains(rawKeys, v) || strings.Contains(v, ":") {
			t.Errorf("%s: attribute %s=%q holds a raw key", name, kv.Key, v)
		}
		parts = append(parts, string(kv.Key)[len("redisslot."):]+"="+v)
	}
	return strings.Join(parts, ",")
}

// instrumented returns a Limiter on a redis-server of its own, instrumented
// with a ManualReader's provider, the reader, and a client of that server.
func instrumented(t *testing.T) (*redisslot.Limiter, *sdkmetric.ManualReader, *redis.Client) {
	t.Helper()
	client := startRedis(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	l := redisslot.New(client, redisslot.Options{Lease: testLease, OnError: func(error) {}})
	t.Cleanup(func() { _ = l.Close() })
	if err := redisslototel.InstrumentMetrics(l, redisslototel.WithMeterProvider(mp)); err != nil {
		t.Fatal(err)
	}
	return l, reader, client
}

// wait fails t unless ctx is done within waitLong.
func wait(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(waitLong):
		t.Fatalf("%s: slot context not done after %v", what, waitLong)
	}
}

// TestInstrumentsRecordEachOutcome runs every outcome against a real Redis
// and checks each instrument's points and attributes, and that Stats agrees.
func TestInstrumentsRecordEachOutcome(t *testing.T) {
	l, reader, client := instrumented(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()

	_, relUser, err := l.TryAcquire(ctx, "user:42", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.TryAcquire(ctx, "user:42", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire of a full key: %v; want ErrFull", err)
	}
	gaveUp, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	if _, _, err := l.Acquire(gaveUp, "user:42", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire that gives up: %v; want DeadlineExceeded", err)
	}
	relUser()

	request, hangUp := context.WithCancel(ctx)
	acct, relAcct, err := l.TryAcquire(request, "acct:7", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer relAcct()
	hangUp()
	wait(t, acct, "hang-up")

	job, relJob, err := l.TryAcquire(ctx, "job:9", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer relJob()
	deleteKeysOf(t, client, "job:9")
	wait(t, job, "lease lost")

	_, relPlain, err := l.TryAcquire(ctx, "plain", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer relPlain()

	checkBeforeClose(t, l, reader)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkAfterClose(t, l, reader)
}

// checkBeforeClose waits until the ends of the hang-up's and the lost
// lease's slots are recorded (how they ended is checked after Close), then
// checks the gauges: only the "plain" slot is held, nobody waits.
func checkBeforeClose(t *testing.T, l *redisslot.Limiter, reader *sdkmetric.ManualReader) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	var got points
	for {
		got = collect(t, reader)
		ends := got["redisslot.slot.duration"]
		n := 0.0
		for _, v := range ends {
			n += v
		}
		if n == 3 { // the release, the hang-up, the lost lease
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot ends not recorded after %v: %v", waitLong, ends)
		}
		time.Sleep(5 * time.Millisecond) // polling the hook's records
	}
	want := map[string]float64{"key_class=user": 0, "key_class=acct": 0, "key_class=job": 0, "key_class=other": 1}
	checkPoints(t, got, "redisslot.slots.held", want)
	checkPoints(t, got, "redisslot.waiters", map[string]float64{"key_class=user": 0})
	checkStats(t, l.Stats(), got)
}

// checkAfterClose checks every instrument once l is closed.
func checkAfterClose(t *testing.T, l *redisslot.Limiter, reader *sdkmetric.ManualReader) {
	t.Helper()
	got := collect(t, reader)
	if len(got) != 5 {
		t.Errorf("%d instruments recorded: %v; want 5", len(got), got)
	}
	checkPoints(t, got, "redisslot.acquire.duration", map[string]float64{
		"key_class=user,result=acquired": 1, "key_class=user,result=full": 1,
		"key_class=user,result=canceled": 1, "key_class=acct,result=acquired": 1,
		"key_class=job,result=acquired": 1, "key_class=other,result=acquired": 1,
	})
	checkPoints(t, got, "redisslot.slot.duration", map[string]float64{
		"end=released,key_class=user": 1, "end=canceled,key_class=acct": 1,
		"end=lease_lost,key_class=job": 1, "end=closed,key_class=other": 1,
	})
	checkPoints(t, got, "redisslot.slots.held", map[string]float64{
		"key_class=user": 0, "key_class=acct": 0, "key_class=job": 0, "key_class=other": 0,
	})
	checkPoints(t, got, "redisslot.waiters", map[string]float64{"key_class=user": 0})
	checkPoints(t, got, "redisslot.leases.lost", map[string]float64{"key_class=job": 1})
	checkStats(t, l.Stats(), got)
}

func checkPoints(t *testing.T, got points, name string, want map[string]float64) {
	t.Helper()
	if !maps.Equal(got[name], want) {
		t.Errorf("%s points %v; want %v", name, got[name], want)
	}
}

// checkStats checks that the Stats snapshot agrees with the instruments.
func checkStats(t *testing.T, s redisslot.Stats, got points) {
	t.Helper()
	sum := func(name, attr string) float64 {
		n := 0.0
		for attrs, v := range got[name] {
			if attr == "" || strings.Contains(attrs, attr) {
				n += v
			}
		}
		return n
	}
	for _, c := range []struct {
		field      string
		stat, inst float64
	}{
		{"Held", float64(s.Held), sum("redisslot.slots.held", "")},
		{"Waiting", float64(s.Waiting), sum("redisslot.waiters", "")},
		{"Acquired", float64(s.Acquired), sum("redisslot.acquire.duration", "result=acquired")},
		{"Full", float64(s.Full), sum("redisslot.acquire.duration", "result=full")},
		{"Canceled", float64(s.Canceled), sum("redisslot.acquire.duration", "result=canceled")},
		{"LeasesLost", float64(s.LeasesLost), sum("redisslot.leases.lost", "")},
	} {
		if c.stat != c.inst {
			t.Errorf("Stats().%s = %v; the instruments say %v", c.field, c.stat, c.inst)
		}
	}
}

// deleteKeysOf deletes from outside every Redis key that holds key (its
// slot set, whatever the Prefix and hash tag around it), and fails t if
// there is none.
func deleteKeysOf(t *testing.T, client *redis.Client, key string) {
	t.Helper()
	ctx := context.Background()
	rkeys, err := client.Keys(ctx, "*"+key+"*").Result()
	if err != nil || len(rkeys) == 0 {
		t.Fatalf("KEYS *%s*: %q, %v; want the slot set", key, rkeys, err)
	}
	if err := client.Del(ctx, rkeys...).Err(); err != nil {
		t.Fatal(err)
	}
}
