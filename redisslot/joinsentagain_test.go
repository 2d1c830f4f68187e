package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// resendFirstJoin has f's first join sent again, as a client's retry after
// a lost reply would send it: the first copy is answered, then the hook
// closes joined and sends the copy once again is closed. The caller's
// Acquire sees only the second answer.
func resendFirstJoin(f *fixture) (joined, again chan struct{}) {
	joined, again = make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if mode, _ := cmds[0].Args()[scriptArg+3].(string); err != nil || mode != "join" || !armed.CompareAndSwap(true, false) {
			return err
		}
		close(joined)
		<-again
		return next()
	}})
	return joined, again
}

// Promise 2: a join sent again after its first copy queued the member, at
// a moment the key has room, takes the slot and takes the member out of
// the queue: no place of a caller that holds a slot is left in line to
// hold up the waiters who come next.
func TestJoinSentAgainWhenTheKeyHasRoomLeavesNoPlaceBehind(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease}
	a, b := newFixture(t, srv, opts), newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, b.l, ctx, "k", 2)
	_, rel2 := mustTry(t, b.l, ctx, "k", 2)
	order, until := redisslot.QueueKeys(a.l, "k")
	raw := srv.Client(t)
	joined, again := resendFirstJoin(a)
	got := make(chan error, 1)
	held := make(chan func(), 1)
	go func() {
		_, r, err := a.l.Acquire(ctx, "k", 2)
		if err == nil {
			held <- r
		}
		got <- err
	}()
	recv(t, joined, waitAtOnce, "A's join not sent")
	rel1()
	rel2() // room for the one in line and one more: a newcomer is admitted
	eventually(t, "b's free confirmed", func() bool { return b.l.Stats().PendingFrees == 0 })
	close(again) // the copy finds the key with room and A's member in line
	if err := recv(t, got, waitAtOnce, "A's Acquire did not return"); err != nil {
		t.Fatalf("A's Acquire: %v; want a slot", err)
	}
	defer (<-held)()
	if q, u := members(t, raw, order), members(t, raw, until); len(q) != 0 || len(u) != 0 {
		t.Errorf("queue %v, entry ends %v after A's join sent again took the slot; want both empty", q, u)
	}
}

// Promise 2: a join sent again after its first copy queued the member, at
// a moment the queue is at its cap because of that member, keeps the
// member's place: the caller is not refused with ErrQueueFull by its own
// place, and is served when the slot frees.
func TestJoinSentAgainAtTheCapKeepsItsPlace(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease, MaxWaiters: 1}
	a, b := newFixture(t, srv, opts), newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, b.l, ctx, "k", 1)
	joined, again := resendFirstJoin(a)
	got := make(chan error, 1)
	go func() {
		_, r, err := a.l.Acquire(ctx, "k", 1)
		if err == nil {
			r()
		}
		got <- err
	}()
	recv(t, joined, waitAtOnce, "A's join not sent")
	close(again) // the copy finds the queue at its cap of 1: A's own place
	eventually(t, "A waits", func() bool {
		select {
		case err := <-got:
			t.Fatalf("A's Acquire, its join sent again at the cap: %v; want it to wait in its place", err)
		default:
		}
		return redisslot.Waiters(a.l, "k") == 1
	})
	rel()
	if err := recv(t, got, waitAtOnce, "A's Acquire did not return"); err != nil {
		t.Errorf("A's Acquire: %v; want a slot once b's is released", err)
	}
}

// Promise 2: a join that a client sends again (a retry after a lost reply)
// after another caller joined behind it keeps its first place: the first in
// line is still served first.
func TestJoinSentAgainKeepsItsPlaceAheadOfLaterWaiters(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease}
	a, b := newFixture(t, srv, opts), newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, b.l, ctx, "k", 1)
	order, _ := redisslot.QueueKeys(a.l, "k")
	raw := srv.Client(t)
	joined, again := resendFirstJoin(a)
	served := make(chan string, 2)
	acquire := func(f *fixture, name string) {
		_, r, err := f.l.Acquire(ctx, "k", 1)
		if err != nil {
			served <- name + ": " + err.Error()
			return
		}
		served <- name
		r()
	}
	go acquire(a, "A")
	recv(t, joined, waitAtOnce, "A's join not sent")
	go acquire(b, "B")
	eventually(t, "B joins behind A", func() bool { return len(members(t, raw, order)) == 2 })
	close(again)
	eventually(t, "A's join sent again is answered", func() bool { return redisslot.Waiters(a.l, "k") == 1 })
	rel()
	if first := recv(t, served, waitAtOnce, "nobody served after the release"); first != "A" {
		t.Errorf("first served after the release: %s; want A, first in line", first)
	}
	if second := recv(t, served, waitAtOnce, "the second waiter not served"); second != "B" {
		t.Errorf("second served: %s; want B", second)
	}
}
