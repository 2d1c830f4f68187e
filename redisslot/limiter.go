package redisslot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

// Defaults of the Options fields left zero.
const (
	defaultPrefix         = "slots:"
	defaultLease          = 30 * time.Second
	defaultReleaseTimeout = 5 * time.Second
)

// minLease is the shortest Lease that New accepts: a shorter one would be
// lost to an ordinary network hiccup or garbage-collection pause.
const minLease = 100 * time.Millisecond

// maxRetryInterval caps the interval at which the oldest local waiter of a
// key retries on its own, whatever the Lease.
const maxRetryInterval = time.Second

// Options configure a Limiter. The zero value is ready to use: every zero
// field means its default.
type Options struct {
	// Prefix is put before every key to name its slot set in Redis.
	// Default "slots:". Limiters share the slots of a key only when they
	// use the same Prefix and the same Redis.
	Prefix string

	// Lease is how long a slot outlives its holder's last renewal: a slot
	// whose holder crashed frees itself at most Lease after its last
	// renewal. The Limiter renews the leases of its slots every Lease/3,
	// and a holder whose renewals have failed for a whole Lease loses its
	// slot. Default 30s; at least 100ms (New panics below that). It is
	// rounded up to whole milliseconds, except within a millisecond of the
	// largest Duration, where it is rounded down: any Lease up to
	// [math.MaxInt64] is accepted, and none overflows.
	//
	// A short Lease gives slots of crashed instances back sooner; a long
	// one rides out longer Redis pauses and network trouble without
	// cancelling the work of live holders.
	Lease time.Duration

	// ReleaseTimeout bounds the calls that Close makes to free the slots
	// still held, and each background call that sends frees (which is also
	// bounded by Lease/3, so that renewals keep their rhythm). No release
	// waits for it. Default 5s.
	ReleaseTimeout time.Duration

	// OnError receives the errors of background work: failed frees,
	// failed renewals, lost leases, a failed subscription for wake-ups.
	// Frees, renewals and lost leases are reported at most once per key
	// per renewal round, with their counts (an error that wraps
	// ErrLeaseLost when slots were lost); a failed call of a caller is not
	// reported, since the caller has its error. When nil, they are logged
	// with log/slog's default logger. It is called concurrently from
	// several goroutines; it must not block, and must not call Close.
	OnError func(error)

	// MaxWaiters, when positive, caps how many Acquire calls may wait for
	// one key at a time across all instances (every Limiter on the same
	// Redis and Prefix): one more returns ErrQueueFull, which also matches
	// ErrFull, at once. The cap is checked by the script that joins the
	// queue, against the waiters there now, so Limiters with different caps
	// each apply their own. Default 0: no cap.
	MaxWaiters int

	// MaxWaitersFor, when set, gives the cap of each key, as MaxWaiters
	// does for all: it is called with the key and the limit of the Acquire
	// call that is about to join the queue, and a result of 0 or less
	// means MaxWaiters. A gateway caps users at their limit plus 20 and
	// accounts at a number of their own. It must be fast and safe for
	// concurrent use; it is called on every Acquire, before Redis.
	MaxWaitersFor func(key string, limit int) int
}

// A Limiter hands out concurrency slots that are shared by every Limiter,
// on any instance, that uses the same Redis and the same Prefix: at no
// time do more than limit holders hold a key, as long as their leases are
// renewed.
//
// A Limiter renews the leases of all the slots it holds, and sends the
// frees of released slots, from one goroutine, which runs only while it
// holds slots or has frees to confirm; a held slot, a release and a failed
// call cost no goroutine. To
// wake waiting Acquire calls, it holds at most one pub/sub connection,
// opened by the first Acquire that waits, and it renews the entries of its
// waiters in their keys' queues from one more goroutine, which runs only
// while it has waiters; a waiter costs no goroutine but its caller's.
//
// Make a Limiter with New; its zero value is not usable, and it must not be
// copied. It is safe for concurrent use by multiple goroutines. Call Close
// when done with it, to free its slots and stop its goroutines.
type Limiter struct {
	client         redis.UniversalClient
	prefix         string
	lease          time.Duration
	leaseMs        int64
	leaseArg       any // leaseMs, boxed once for the scripts' arguments
	releaseTimeout time.Duration
	renewEvery     time.Duration
	retry          time.Duration
	maxWaiters     int
	maxWaitersFor  func(key string, limit int) int
	onError        func(error)
	instance       string        // start of every member id of this Limiter
	seq            atomic.Uint64 // end of the next member id
	grouping       int           // how renewals group keys: hashslot.go
	kick           chan struct{} // buffered 1: new pending frees to send
	trouble        trouble       // background failures of the round

	closing chan struct{}      // closed when Close starts
	bg      context.Context    // bounds background calls; cancelled by Close
	stopBg  context.CancelFunc // cancels bg
	// wg counts calls, frees and goroutines in flight. Add is called only
	// with mu held and closed false, or while already counted.
	wg sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	held     map[string]*heldKey    // by Redis key
	pending  map[string]*pendingKey // frees to confirm, by Redis key
	renewing bool                   // the renewer runs

	renewMu sync.Mutex // one renewal round at a time

	waiting waiting // waiting.go

	closeOnce sync.Once
	closeErr  error

	obs observer // hooks and Stats: hook.go, stats.go
}

// New returns a Limiter that keeps its slots in Redis through client. The
// client may be a single node, a failover client or a Redis Cluster client.
// Each Redis call is bounded by its ctx only when the client was made with
// ContextTimeoutEnabled set; otherwise by the client's own timeouts and
// retries (see the package documentation).
//
// New panics, with a message starting "redisslot:", if client is nil (or
// a nil pointer of a client type), if opts.Lease is set below 100ms, or if
// a duration in opts is negative. It does not contact Redis.
func New(client redis.UniversalClient, opts Options) *Limiter {
	if client == nil {
		panic("redisslot: New called with a nil client")
	}
	if v := reflect.ValueOf(client); v.Kind() == reflect.Pointer && v.IsNil() {
		panic(fmt.Sprintf("redisslot: New called with a nil %T", client))
	}
	if opts.Lease < 0 || (opts.Lease > 0 && opts.Lease < minLease) {
		panic(fmt.Sprintf("redisslot: Options.Lease %v is below the minimum %v", opts.Lease, minLease))
	}
	if opts.ReleaseTimeout < 0 {
		panic(fmt.Sprintf("redisslot: negative Options.ReleaseTimeout %v", opts.ReleaseTimeout))
	}
	if opts.MaxWaiters < 0 {
		panic(fmt.Sprintf("redisslot: negative Options.MaxWaiters %d", opts.MaxWaiters))
	}
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.Lease == 0 {
		opts.Lease = defaultLease
	}
	if opts.ReleaseTimeout == 0 {
		opts.ReleaseTimeout = defaultReleaseTimeout
	}
	leaseMs := opts.Lease.Milliseconds()
	if opts.Lease%time.Millisecond != 0 && leaseMs < math.MaxInt64/int64(time.Millisecond) {
		leaseMs++
	}
	lease := time.Duration(leaseMs) * time.Millisecond
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails on supported platforms
	bg, stop := context.WithCancel(context.Background())
	l := &Limiter{
		client:         client,
		prefix:         opts.Prefix,
		lease:          lease,
		leaseMs:        leaseMs,
		leaseArg:       leaseMs,
		releaseTimeout: opts.ReleaseTimeout,
		renewEvery:     lease / 3,
		retry:          min(lease/3, maxRetryInterval),
		maxWaiters:     opts.MaxWaiters,
		maxWaitersFor:  opts.MaxWaitersFor,
		onError:        opts.OnError,
		instance:       hex.EncodeToString(id[:]) + "-",
		closing:        make(chan struct{}),
		bg:             bg,
		stopBg:         stop,
		held:           make(map[string]*heldKey),
		pending:        make(map[string]*pendingKey),
		kick:           make(chan struct{}, 1),
		grouping:       groupingOf(client),
	}
	if l.onError == nil {
		l.onError = func(err error) { slog.Error("redisslot: background error", "err", err) }
	}
	return l
}

// enter counts a call in flight, or reports false if l is closed.
func (l *Limiter) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	return true
}

// InUse returns the number of live holders of key, cluster-wide: members of
// its slot set whose lease has not ended by Redis time. A release returns
// before Redis hears of it, so InUse may count a slot released an instant
// ago until its free arrives (well under a second on a healthy Redis; when
// Redis is unreachable, until a renewal round gets it through or the
// lease ends). It keeps working while Redis is out of memory. It returns
// ErrClosed once Close has been called, and a Redis error wrapped with the
// key.
// InUse panics if ctx is nil.
func (l *Limiter) InUse(ctx context.Context, key string) (int, error) {
	if ctx == nil {
		panic("redisslot: InUse called with a nil Context")
	}
	if err := l.checkKey(key); err != nil {
		return 0, err
	}
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.wg.Done()
	n, err := inUseScript.Run(ctx, l.client, []string{l.slotKey(key)}).Int()
	if err != nil {
		return 0, fmt.Errorf("redisslot: count holders of key %s: %w", quoteKey(key), err)
	}
	return n, nil
}

var errEmptyKey = errors.New("redisslot: empty key")

// checkKey says what is wrong with key, if anything.
func (l *Limiter) checkKey(key string) error {
	if key == "" {
		return errEmptyKey
	}
	return l.checkTag(key)
}

// checkArgs says what is wrong with key and limit, if anything.
func (l *Limiter) checkArgs(key string, limit int) error {
	if err := l.checkKey(key); err != nil {
		return err
	}
	if limit < 1 {
		return fmt.Errorf("redisslot: limit %d for key %s is less than 1", limit, quoteKey(key))
	}
	return nil
}

// capFor returns the cap on the waiters of key for a caller passing limit:
// MaxWaitersFor's result when positive, else MaxWaiters; 0 for none.
func (l *Limiter) capFor(key string, limit int) int {
	if l.maxWaitersFor != nil {
		if n := l.maxWaitersFor(key, limit); n > 0 {
			return n
		}
	}
	return l.maxWaiters
}

// Close shuts l down, in this order:
//
//   - later calls, and Acquire calls waiting or in flight, return ErrClosed;
//   - the context of every slot l holds is cancelled with cause ErrClosed;
//   - those slots, and every free still pending (of released slots and of
//     failed acquires), are freed in Redis, one call per key (per few
//     hundred slots of a key), all in one pipeline, bounded by
//     ReleaseTimeout; the releases of those slots then do nothing;
//   - Close waits for the acquires already in flight and for l's
//     goroutines, closes l's pub/sub connection, and sends, bounded by
//     ReleaseTimeout again, the frees of the acquires that failed or were
//     refused by Close meanwhile;
//   - it returns the failures, joined with [errors.Join]: each names its key.
//     A slot whose free failed is taken back by Redis when its lease ends.
//
// Close does not close the client. It is safe to call more than once and
// from several goroutines: every call returns when the first is done, with
// its result.
func (l *Limiter) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Limiter) close() error {
	l.mu.Lock()
	l.closed = true
	close(l.closing)
	held := l.held
	l.held = make(map[string]*heldKey)
	l.mu.Unlock()

	// Their releases now find them gone from held and do nothing. Every
	// context is cancelled before any free is sent.
	for _, hk := range held {
		for _, s := range hk.slots {
			s.cancel(ErrClosed)
			l.slotEnded(s) // hook.go
		}
	}
	l.mu.Lock()
	for _, hk := range held {
		for _, s := range hk.slots {
			l.addPending(s.key, s.rkey, s.member, s.renewSent.Add(l.lease), false)
		}
	}
	l.mu.Unlock()
	errs := l.freeOnClose()

	l.stopBg()
	if err := l.stopWaiting(); err != nil {
		errs = append(errs, err)
	}
	l.wg.Wait()
	errs = append(errs, l.freeOnClose()...) // acquires that failed meanwhile
	return errors.Join(errs...)
}

// report hands a background error to OnError.
func (l *Limiter) report(err error) { l.onError(err) }

// A Limiter is a [slots.Limiter]: a handler written against that interface
// moves from slots.Local to redisslot by changing its constructor.
var _ slots.Limiter = (*Limiter)(nil)
