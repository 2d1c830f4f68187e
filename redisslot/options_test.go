package redisslot_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// New refuses, with a panic naming the package and the field, a Lease too
// short to be renewed in time, a ReleaseTimeout too short for a free to
// land, and a nil pointer of a client type.
func TestNewPanicsOnAShortLeaseOrReleaseTimeoutAndATypedNilClient(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for name, fn := range map[string]func(){
		"Lease 1ns":                   func() { redisslot.New(c, redisslot.Options{Lease: 1}) },
		"Lease 5ms":                   func() { redisslot.New(c, redisslot.Options{Lease: 5 * time.Millisecond}) },
		"Lease 99ms":                  func() { redisslot.New(c, redisslot.Options{Lease: 99 * time.Millisecond}) },
		"ReleaseTimeout 1ns":          func() { redisslot.New(c, redisslot.Options{ReleaseTimeout: 1}) },
		"ReleaseTimeout 99ms":         func() { redisslot.New(c, redisslot.Options{ReleaseTimeout: 99 * time.Millisecond}) },
		"(*redis.Client)(nil)":        func() { redisslot.New((*redis.Client)(nil), redisslot.Options{}) },
		"(*redis.ClusterClient)(nil)": func() { redisslot.New((*redis.ClusterClient)(nil), redisslot.Options{}) },
	} {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				field, _, _ := strings.Cut(name, " ")
				if !strings.HasPrefix(s, "redisslot:") || !strings.HasPrefix(field, "(") && !strings.Contains(s, "Options."+field) {
					t.Errorf("New with %s panicked with %v; want a message starting %q that names the field", name, r, "redisslot:")
				}
			}()
			fn()
		}()
	}
	l := redisslot.New(c, redisslot.Options{Lease: 100 * time.Millisecond, ReleaseTimeout: 100 * time.Millisecond}) // the shortest allowed
	_ = l.Close()
}

// Leases up to the largest Duration do not overflow: a limit-1 key still
// has one holder, and renewal still runs.
func TestHugeLeasesDoNotOverflow(t *testing.T) {
	srv := redistest.Shared(t)
	for _, lease := range []time.Duration{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64 - time.Millisecond + 1, math.MaxInt64 / 2} {
		f := newFixture(t, srv, redisslot.Options{Lease: lease, Prefix: testPrefix(t) + lease.String() + ":"})
		ctx := ctxWithTimeout(t)
		_, rel := mustTry(t, f.l, ctx, "k", 1)
		if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
			t.Errorf("Lease %d: second TryAcquire of a limit-1 key: %v; want ErrFull", lease, err)
		}
		if every := redisslot.RenewEvery(f.l); every <= 0 {
			t.Errorf("Lease %d: renewal every %v; want a positive interval", lease, every)
		}
		redisslot.RenewNow(f.l)
		if errs := f.errs.all(); len(errs) > 0 {
			t.Errorf("Lease %d: renewal: %v", lease, errs)
		}
		rel()
	}
}

// Error messages quote at most a short prefix of a long key.
func TestErrorsQuoteAShortPrefixOfALongKey(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	key := strings.Repeat("é", 1<<19) // 1 MiB
	ctx := ctxWithTimeout(t)
	_, rel, errLimit := f.l.TryAcquire(ctx, key, 0) // the limit is bad
	if errLimit == nil {
		rel()
	}
	_, rel, err := f.l.TryAcquire(ctx, key, 1)
	if err != nil {
		t.Fatalf("TryAcquire of a 1 MiB key: %v", err)
	}
	defer rel()
	_, rel2, errFull := f.l.TryAcquire(ctx, key, 1) // the key is full
	if errFull == nil {
		rel2()
	}
	for _, err := range []error{errLimit, errFull} {
		if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), `é"...`) {
			t.Errorf("error %.300q (%d bytes); want at most 200 bytes, with a prefix of the key and an ellipsis", err, len(err.Error()))
		}
	}
}

// The lease margin is Lease/20, at least 50ms and at most Lease/6, as
// Options.Lease says.
func TestLeaseMarginIsATwentiethBetweenItsBounds(t *testing.T) {
	for _, tc := range []struct{ lease, want time.Duration }{
		{100 * time.Millisecond, 100 * time.Millisecond / 6}, // at most Lease/6
		{600 * time.Millisecond, 50 * time.Millisecond},      // at least 50ms
		{time.Second, 50 * time.Millisecond},
		{2 * time.Second, 100 * time.Millisecond},
		{30 * time.Second, 1500 * time.Millisecond}, // the default Lease
	} {
		if got := redisslot.Margin(tc.lease); got != tc.want {
			t.Errorf("margin of Lease %v = %v; want %v", tc.lease, got, tc.want)
		}
	}
}

// A Lease with a part of a millisecond is rounded up to whole
// milliseconds: the slots' life, and the renewal interval, follow it.
func TestLeaseIsRoundedUpToWholeMilliseconds(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	l := redisslot.New(c, redisslot.Options{Lease: time.Second + time.Nanosecond})
	defer l.Close()
	const rounded = time.Second + time.Millisecond
	if got, want := redisslot.Life(l), rounded-redisslot.Margin(rounded); got != want {
		t.Errorf("life of a slot with Lease 1.000000001s = %v; want %v, of the Lease rounded up to %v", got, want, rounded)
	}
	if got, want := redisslot.RenewEvery(l), rounded/3; got != want {
		t.Errorf("renewal interval with Lease 1.000000001s = %v; want %v", got, want)
	}
}
