package redisslot_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// When a Limiter learns of a Redis restart (here its pub/sub connection
// comes back), it runs a round at once, which ends the slots it holds that
// the restart lost. An acquire that the old Redis admitted, but whose reply
// is still on its way when that round runs, is not in the round: its slot,
// lost in the restart too, is then kept live when the reply arrives (well
// within its life), and nothing looks at it again before the Limiter's
// next round, Lease/3 later.
//
// Here a holds a warm-up slot (its canary confirmed). Redis is stopped
// (SIGSTOP) and a's TryAcquire of k (limit 1) reaches Redis's socket over
// a's pooled connection, which runs through the in-test proxy; the proxy
// freezes, Redis resumes and admits the acquire, and the reply is held by
// the partition. Redis is killed and restarted empty; a's pub/sub
// connection, direct, comes back, and a's round ends the warm-up slot
// (ErrLeaseLost). a goes on: its next slot, on the restarted Redis, finds
// the scripts gone, so a runs another round and tells the others. The
// partition heals: a's TryAcquire returns k, live. b then takes k too
// (limit 1), as the restarted Redis has no holder of it; its acquire finds
// the scripts loaded, so it tells nobody. a's holder of k must end within
// restartBound, as the restart's other holders did (guarantee 5); it lives
// on beside b's until a's next round, Lease/3 (20s) later.
//
// The window is made by the faults, not by luck: Redis is stopped until
// the acquire is in its socket's receive queue (read from /proc/net/tcp),
// and the proxy is frozen before Redis resumes.
func TestRestartFoundWhileAnAcquiresReplyIsOnItsWayEndsItsSlot(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("needs /proc/net/tcp to see the acquire reach Redis's socket")
	}
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	// a's pooled connections run through the proxy until it freezes, so
	// that the acquire's reply is held whichever of them it goes over; its
	// pub/sub connection, and every connection dialled once the proxy is
	// frozen, go straight to Redis.
	var frozen atomic.Bool
	opts := srv.Options()
	opts.ReadTimeout, opts.WriteTimeout = waitLong, waitLong // the held reply is waited for
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !frozen.Load() && !dialledForPubSub() {
			addr = p.Addr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := redis.NewClient(opts)
	count := &redistest.Counter{}
	client.AddHook(count)
	t.Cleanup(func() { _ = client.Close() })
	if err := redisslot.LoadScripts(ctx, client); err != nil {
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(10*time.Second)) })

	warm, relWarm := mustTry(t, a, ctx, "warm", 1)
	defer relWarm()
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	// Its first look is done: no call of a's but the acquire is on its way
	// when the proxy freezes.
	eventually(t, "a's canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(a) })

	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resume := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	t.Cleanup(resume)
	type result struct {
		sctx context.Context
		rel  func()
		err  error
	}
	got := make(chan result, 1)
	go func() {
		sctx, rel, err := a.TryAcquire(ctx, "k", 1)
		got <- result{sctx, rel, err}
	}()
	eventually(t, "a's acquire waits in the stopped Redis's socket", func() bool { return queuedAt(t, srv.Addr) >= 100 })
	frozen.Store(true)
	p.Freeze() // the reply will be held
	resume()
	direct := srv.Client(t)
	eventually(t, "Redis admits a's acquire of k", func() bool {
		n, err := direct.ZCard(ctx, redisslot.SlotKey(a, "k")).Result()
		return err == nil && n == 1
	})
	select {
	case r := <-got:
		t.Fatalf("a's TryAcquire of k returned (%v) with the proxy frozen: it did not go through the proxy", r.err)
	default: // its reply is held
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slots of warm and k are forgotten
		t.Fatal(err)
	}
	recv(t, warm.Done(), waitAtOnce, "a did not end its warm-up slot, lost in the restart, once its pub/sub connection came back")
	// a goes on serving: its next slot, on the restarted Redis (over a new
	// connection), finds the scripts gone; a runs a round at once and tells
	// the others.
	_, relNext := mustTry(t, a, ctx, "next", 1)
	defer relNext()
	eventually(t, "a's restart message, sent by the round its call asked for", func() bool {
		return count.ByName("publish") > 0 && redisslot.TellerIdle(a) // sent by that round, which took the poke
	})
	p.Thaw()
	var r result
	select {
	case r = <-got:
	case <-time.After(waitAtOnce):
		t.Fatal("a's TryAcquire did not return once the proxy thawed")
	}
	if r.err != nil {
		t.Fatalf("a's TryAcquire of k, admitted by Redis seconds ago, = %v; want the slot (its life is %v)", r.err, redisslot.Life(a))
	}
	defer r.rel()
	_, relB, err := b.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("b's TryAcquire of k, which the restarted Redis has no holder of: %v; want a slot", err)
	}
	defer relB()
	taken := time.Now()

	select {
	case <-r.sctx.Done():
		if got := context.Cause(r.sctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's slot of k ended with cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, admitted by Redis before its restart, still held %v after b took k (limit 1): two holders; a's rounds are %v apart",
			time.Since(taken).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}

// queuedAt returns the most bytes waiting in the receive queue of any TCP
// socket on addr's port (from /proc/net/tcp): a request that a stopped
// Redis has not read.
func queuedAt(t *testing.T, addr string) int64 {
	t.Helper()
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var most int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.Contains(fields[1], ":") {
			continue
		}
		local := fields[1][strings.IndexByte(fields[1], ':')+1:]
		if lp, err := strconv.ParseInt(local, 16, 32); err != nil || int(lp) != port {
			continue
		}
		queues := strings.SplitN(fields[4], ":", 2)
		if len(queues) != 2 {
			continue
		}
		if rx, err := strconv.ParseInt(queues[1], 16, 64); err == nil && rx > most {
			most = rx
		}
	}
	return most
}

// dialledForPubSub reports whether the dial under way is a go-redis PubSub's.
func dialledForPubSub() bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte(".(*PubSub)."))
}
