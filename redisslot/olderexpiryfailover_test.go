package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// An olderExpiryFailover is a failover that a's rounds find, for
// olderKeyExpiryAcrossFailover.
type olderExpiryFailover struct {
	// failOver sets failedOver and fails over s, a's client being c.
	failOver func(t *testing.T, s *failoverSetup, c *redis.Client, failedOver *atomic.Bool)
	// answered tells, for each renewal call of a's sent once failedOver
	// is set, in order, whether it is the round under test,
	// answered by the new master; err is the call's error.
	answered func(cmds []redis.Cmder, err error) bool
	round    string // the round under test, for messages
	want     string // what it must do, for messages
}

// olderKeyExpiryAcrossFailover has a take k (limit 1); once two rounds
// have renewed its slot, the replica's link is cut: the replica keeps k as
// that round left it, and misses the next round. At once after that round
// v fails over to the replica. Once the round under test is answered by
// the new master, a's network to Redis holds every byte (the in-test proxy,
// frozen), as for an instance cut off. a's slot lives, by a's clock, a
// slot's life after that round. k must not expire before then, at the
// expiry the new master has from before the round it missed: if it does,
// b takes k (limit 1) beside a's holder. Rounds that left k's expiry
// alone (extending it only now and then) would have the new master keep
// k's expiry from its acquire: it comes before a's slot ends.
func olderKeyExpiryAcrossFailover(t *testing.T, v olderExpiryFailover) {
	t.Helper()
	const lease = olderExpiryLease
	s := newFailoverSetup(t)
	ctx := ctxWithTimeout(t)
	prefix := testPrefix(t)

	a, client, cut, aErrs := cutOffLimiter(t, s, prefix)
	life := redisslot.Life(a)

	var failedOver atomic.Bool
	var answered atomic.Int64 // when the round under test was sent, Unix ns
	renewed := make(chan struct{})
	client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		at, after := time.Now(), failedOver.Load() // sent once the failover began
		err := next()
		if after && v.answered(cmds, err) && answered.CompareAndSwap(0, at.UnixNano()) {
			cut.Freeze() // a is cut off from Redis from now on
			close(renewed)
		}
		return err
	}})

	first, relFirst := mustTry(t, a, ctx, "k", 1)
	defer relFirst()
	acquired := redisslot.LeaseConfirmedAt(a, "k")
	rkey := redisslot.SlotKey(a, "k")
	onMaster, onReplica := s.master.Client(t), s.replica.Client(t)
	member := members(t, onMaster, rkey)[0].Member.(string)
	renewedPast := func(from time.Time) func() bool { // a round sent at from or later renewed the slot
		return func() bool { return onMaster.ZScore(ctx, rkey, member).Val() >= float64(from.Add(lease).UnixMilli()) }
	}

	// The replica gets a's first two rounds, and misses the next and every
	// write after it.
	eventuallyWithin(t, waitAfter(lease), "a's second round renews its slot", renewedPast(acquired.Add(lease/2)))
	s.synced(t)
	s.link.Freeze()
	cutAt := time.Now() // a round sent later reaches the master alone
	restored := onReplica.PExpireTime(ctx, rkey).Val()
	eventuallyWithin(t, waitAfter(2*lease), "a round sent after the cut, confirmed", func() bool {
		return redisslot.LeaseConfirmedAt(a, "k").After(cutAt)
	})
	v.failOver(t, s, client, &failedOver)

	recv(t, renewed, waitAfter(lease), v.round+", answered by the new master")
	sent := time.Unix(0, answered.Load())
	slotEnds := sent.Add(life) // by a's clock, at the latest
	expiresAt := time.UnixMilli(restored.Milliseconds())
	if !expiresAt.Before(slotEnds) {
		return // k outlives a's slot on the new master: no one can take it beside a's holder
	}

	// b, made now, tries at once once k expires: a's slot is live until then.
	b := newFixture(t, s.replica, redisslot.Options{Prefix: prefix, Lease: lease})
	// Until k's older expiry on the new master.
	eventuallyWithin(t, waitAfter(time.Until(expiresAt)), "k expires on the new master, or a's slot ends", func() bool {
		return onReplica.Exists(ctx, rkey).Val() == 0 || first.Err() != nil
	})
	if first.Err() != nil {
		return // a's slot ended first: nobody could take it beside it
	}
	_, rel, err := b.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("b's TryAcquire(k, 1): %v", err)
		}
		return
	}
	defer rel()
	if first.Err() == nil {
		t.Errorf("k expired on the new master at its older expiry, %v after %s, which the new master ran (extending a's lease there for %v) and a confirmed; b took k (limit 1) while a's holder is live, by a's clock until %v after that round (a's OnError, cut off: %v); want %s",
			expiresAt.Sub(sent).Round(time.Millisecond), v.round, lease, life, aErrs.all(), v.want)
	}
}

// cutOffLimiter returns a Limiter a, of Lease olderExpiryLease, warmed up
// (its canary's first look done), on a client of its own that reaches s's
// address through cut, a proxy the test can freeze to cut a off from Redis;
// and the reports of a. cut thaws before a closes.
func cutOffLimiter(t *testing.T, s *failoverSetup, prefix string) (*redisslot.Limiter, *redis.Client, *redistest.Proxy, *errLog) {
	t.Helper()
	cut := redistest.NewProxy(t, s.addr.addr) // a's network to the address
	o := s.master.Options()
	o.Addr = cut.Addr
	client := redis.NewClient(o)
	t.Cleanup(func() { _ = client.Close() })
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: prefix, Lease: olderExpiryLease, ReleaseTimeout: time.Second, OnError: aErrs.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*time.Second)) })
	warmUp(t, a)
	t.Cleanup(cut.Thaw) // before a closes
	return a, client, cut, aErrs
}
