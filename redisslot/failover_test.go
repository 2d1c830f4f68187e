package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// failLimit is the limit of the failover tests' key: a holds it whole, half
// of its slots taken before the replica's link was cut, half after.
const failLimit = 4

// A failover to a replica that missed the last writes forgets the slots
// those writes took, as a restart forgets every slot: a's holders of the
// slots the new master never saw must end within restartBound of b's first
// admission to k (limit failLimit), not live on beside b's holders until
// a's next round, Lease/3 later. The variants differ in what the failover
// does with the connections open through the master's address (see
// openConns), in whether the new master has the scripts (Redis 7 does not
// replicate SCRIPT LOAD; a replica that was master once, or that other
// instances reached first, has them), and in whether a calls after the
// failover (its first call may reach the demoted old master: READONLY),
// and in how many connections a holds open as the failover comes.
func TestFailoverThatLostTheLastAcquiresEndsTheirHoldersAtOnce(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	for _, v := range []failoverCase{
		{"connections dropped", dropConns, false, false, false, false, 0},
		{"connections dropped, scripts loaded", dropConns, true, false, false, false, 0},
		{"connections moved", moveConns, false, false, false, true, 0},
		{"connections moved, scripts loaded", moveConns, true, false, false, true, 0},
		{"connections moved, a calls", moveConns, false, false, true, true, 0},
		{"old master demoted under its connections", keepConns, false, true, false, false, demotedConns},
		{"old master demoted under many pooled connections", keepConns, false, true, false, false, pooledConns},
		{"old master demoted under its connections, a calls", keepConns, false, true, true, false, demotedConns},
		{"old master demoted under its connections, scripts loaded", keepConns, true, true, false, true, demotedConns},
		{"old master demoted under its connections, scripts loaded, a calls", keepConns, true, true, true, false, demotedConns},
	} {
		t.Run(v.name, func(t *testing.T) {
			if v.undecided && os.Getenv("REDISSLOT_FAILOVER_UNDECIDED") != "1" {
				t.Skip("a's holders live until its next round (Lease/3): no message reaches a (its moved pub/sub connection lost its subscriptions, or no call of any instance is answered NOSCRIPT), and no call of a is answered READONLY or NOSCRIPT; REDISSLOT_FAILOVER_UNDECIDED=1 runs it")
			}
			failoverOnce(t, v)
		})
	}
}

type failoverCase struct {
	name    string
	open    openConns // what the failover does with the open connections
	scripts bool      // the new master has the scripts
	demote  bool      // the old master becomes a replica of the new
	aCalls  bool      // after b's admissions, a calls until one is answered
	// undecided: the limit is exceeded until a's next round, and whether
	// to poll for it is not decided: skipped unless asked for.
	undecided bool
	conns     int // connections a holds open through the address as it fails over
}

// failoverSetup is a master, its replica with the link between them
// behind a proxy (to cut it), and the one address clients use.
type failoverSetup struct {
	master, replica *redistest.Server
	link            *redistest.Proxy
	addr            *failoverProxy
}

func newFailoverSetup(t *testing.T) *failoverSetup {
	t.Helper()
	s := &failoverSetup{master: redistest.Start(t), replica: redistest.Start(t)}
	s.link = redistest.NewProxy(t, s.master.Addr)
	s.replica.ReplicaOf(t, s.master, s.link.Addr)
	s.addr = newFailoverProxy(t, s.master.Addr)
	ctx := ctxWithTimeout(t)
	if err := redisslot.LoadScripts(ctx, s.master.Client(t)); err != nil {
		t.Fatalf("SCRIPT LOAD: %v", err)
	}
	return s
}

// limiter returns a Limiter on a client of its own through the address.
func (s *failoverSetup) limiter(t *testing.T, prefix string) (*redisslot.Limiter, *redis.Client) {
	t.Helper()
	o := s.master.Options()
	o.Addr = s.addr.addr
	o.PoolSize = 2 * pooledConns
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	l := redisslot.New(c, redisslot.Options{Prefix: prefix, Lease: longLease, OnError: func(error) {}})
	t.Cleanup(func() { closeWithin(t, l, waitAfter(10*time.Second)) })
	return l, c
}

// demotedConns and pooledConns are how many connections a has open to the
// master a failover demotes under them. go-redis closes a connection
// answered READONLY and tries again, up to MaxRetries times: 2 connections
// a call with MaxRetries 1, as here, 4 with the default 3. demotedConns is
// more than a round's call tries, so that its first round after the
// failover is answered READONLY on each; pooledConns is the pool of a busy
// gateway's client (go-redis's default PoolSize is 10 per CPU).
const (
	demotedConns = 8
	pooledConns  = 48
)

// holdConns has c open at least n connections, idle in its pool after: n
// blocking calls at once need as many.
func holdConns(t *testing.T, c *redis.Client, n int) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	eventually(t, fmt.Sprintf("%d connections open", n), func() bool {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { _ = c.Do(ctx, "BLPOP", "openconns", "0.05").Err() })
		}
		wg.Wait()
		return c.PoolStats().TotalConns >= uint32(n)
	})
}

// synced waits until the replica has acknowledged every write so far.
func (s *failoverSetup) synced(t *testing.T) {
	t.Helper()
	n, err := s.master.Client(t).Wait(ctxWithTimeout(t), 1, waitAtOnce).Result()
	if err != nil || n != 1 {
		t.Fatalf("WAIT 1 on the master = %d, %v; want the replica to acknowledge", n, err)
	}
}

// failOver promotes the replica and moves the address to it, as v says.
func (s *failoverSetup) failOver(t *testing.T, v failoverCase) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	r := s.replica.Client(t)
	if v.scripts {
		if err := redisslot.LoadScripts(ctx, r); err != nil {
			t.Fatalf("SCRIPT LOAD on the replica: %v", err)
		}
	}
	if err := r.ReplicaOf(ctx, "no", "one").Err(); err != nil {
		t.Fatalf("REPLICAOF NO ONE: %v", err)
	}
	s.addr.moveTo(t, s.replica.Addr, v.open)
	if v.demote {
		s.master.ReplicaOf(t, s.replica, s.replica.Addr)
	}
}

func failoverOnce(t *testing.T, v failoverCase) {
	s := newFailoverSetup(t)
	prefix := testPrefix(t)
	a, ac := s.limiter(t, prefix)
	actx := ctxWithin(t, 2*longLease) // outlives a's next round
	synced := take(t, a, actx, failLimit/2)
	redisslot.RenewRound(a) // a Limiter that has run a round keeps its restart canary
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	s.synced(t)
	s.link.Freeze() // the replica misses what follows
	missed := take(t, a, actx, failLimit/2)
	holdConns(t, ac, v.conns)
	s.failOver(t, v)

	b, _ := s.limiter(t, prefix)
	admitted := time.Now()
	taken := take(t, b, ctxWithin(t, 2*longLease), failLimit/2)
	if _, _, err := b.TryAcquire(actx, "k", failLimit); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("b's third TryAcquire of k: %v; want ErrFull: the new master knows a's %d synced slots", err, len(synced))
	}
	if v.aCalls {
		aAnswered(t, a, actx)
	}

	holders := append(append(append([]context.Context(nil), synced...), missed...), taken...)
	over := overLimit(t, holders, admitted, waitAfter(redisslot.RenewEvery(a)))
	t.Logf("%d holders of k (limit %d) for %v after b's first admission", failLimit+len(taken), failLimit, over.Round(time.Millisecond))
	if over > restartBound {
		t.Errorf("a's %d holders of slots the new master never saw lived %v beside b's %d holders of k (limit %d); want them to end within %v (a's next round is %v after its last)",
			len(missed), over.Round(time.Millisecond), len(taken), failLimit, restartBound, redisslot.RenewEvery(a))
	}
	for i, h := range missed {
		if got := context.Cause(h); got != redisslot.ErrLeaseLost {
			t.Errorf("a's holder %d of a slot the new master never saw: cause %v; want ErrLeaseLost", i, got)
		}
	}
	for i, h := range synced {
		if h.Err() != nil {
			t.Errorf("a's holder %d of a slot the new master has ended (cause %v); want it live", i, context.Cause(h))
		}
	}
}

// take takes n slots of k (limit failLimit) on l, released when t ends.
func take(t *testing.T, l *redisslot.Limiter, ctx context.Context, n int) []context.Context {
	t.Helper()
	var held []context.Context
	for range n {
		sctx, rel := mustTry(t, l, ctx, "k", failLimit)
		t.Cleanup(rel)
		held = append(held, sctx)
	}
	return held
}

// aAnswered has l call until one call is answered: l then reaches the new
// master.
func aAnswered(t *testing.T, l *redisslot.Limiter, ctx context.Context) {
	t.Helper()
	var errs []error
	eventually(t, "a call of a is answered", func() bool {
		_, rel, err := l.TryAcquire(ctx, fmt.Sprint("other", len(errs)), 1)
		if err != nil {
			errs = append(errs, err)
			return false
		}
		t.Cleanup(rel) // not now: its free would be a call too
		return true
	})
	if len(errs) > 0 {
		t.Logf("a's calls before one was answered: %v", errs)
	}
}

// overLimit returns how long after since more than failLimit of holders
// were live, polling until no more are, or failing t after bound.
func overLimit(t *testing.T, holders []context.Context, since time.Time, bound time.Duration) time.Duration {
	t.Helper()
	for {
		live := 0
		for _, h := range holders {
			if h.Err() == nil {
				live++
			}
		}
		if live <= failLimit {
			return time.Since(since)
		}
		if time.Since(since) > bound {
			t.Fatalf("%d holders of k (limit %d) still live %v after b's first admission", live, failLimit, bound)
		}
		time.Sleep(pollInterval)
	}
}
