package slotstest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/ctxguard/release/slots"
)

// prefixRE is the package-name prefix every error of a backend starts
// with, as "slots: " or "redisslot: ".
var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]*: `)

// texts checks the errors of one backend against the text every backend
// gives, after the package-name prefix, which must be one word and the
// same for every error of the backend.
type texts struct {
	t      *testing.T
	prefix string
}

// is fails t unless err reads prefix+want.
func (x *texts) is(call string, err error, want string) {
	x.t.Helper()
	if err == nil {
		x.t.Errorf("%s = nil error; want %q after the package name", call, want)
		return
	}
	msg := err.Error()
	p := prefixRE.FindString(msg)
	if p == "" {
		x.t.Errorf("%s = %q; want it to start with the package name and \": \"", call, msg)
		return
	}
	if x.prefix == "" {
		x.prefix = p
	}
	if got := x.prefix + want; msg != got {
		x.t.Errorf("%s = %q; want %q", call, msg, got)
	}
}

// testErrorTexts pins the text of every error a backend makes of its own,
// after its package-name prefix, with the key quoted by slots.QuoteKey:
// for an empty key, a limit below 1, a full key and a full line, a long key
// included; and that a refusal unwraps (errors.Unwrap, not only errors.Is)
// to ErrFull or ErrQueueFull.
func testErrorTexts(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{MaxWaiters: 1})
	l := ls[0]
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	x := &texts{t: t}
	short := newKey("text")
	long := newKey("text:" + strings.Repeat("é", 40)) // over 64 bytes: quoted cut short
	for _, key := range []string{short, long} {
		q := slots.QuoteKey(key)
		for name, call := range acquireCalls(l, ctx) {
			x.is(name+`("", 1)`, call("", 1), "empty key")
			x.is(fmt.Sprintf("%s(key, 0)", name), call(key, 0), "limit 0 for key "+q+" is less than 1")
			x.is(fmt.Sprintf("%s(key, -7)", name), call(key, -7), "limit -7 for key "+q+" is less than 1")
		}
		_, err := l.InUse(ctx, "")
		x.is(`InUse("")`, err, "empty key")
		_, err = l.Load(ctx, key, "")
		x.is(`Load(key, "")`, err, "empty key")

		h := mustTry(t, l, ctx, key, 1)
		//lostrelease:ignore the call must fail: the key is full
		_, _, err = l.TryAcquire(ctx, key, 1)
		x.is("TryAcquire of a full key", err, "no free slot for key "+q)
		if errors.Unwrap(err) != slots.ErrFull {
			t.Errorf("errors.Unwrap(TryAcquire of a full key) = %v; want ErrFull itself", errors.Unwrap(err))
		}
		waiter := acquireAsync(l, ctx, key, 1)
		loadIs(t, l, key, 1, 1)
		r := recv(t, acquireAsync(l, ctx, key, 1), "Acquire beyond the cap")
		x.is("Acquire beyond the cap", r.err, "too many waiters for key "+q)
		if errors.Unwrap(r.err) != slots.ErrQueueFull {
			t.Errorf("errors.Unwrap(Acquire beyond the cap) = %v; want ErrQueueFull itself", errors.Unwrap(r.err))
		}
		h.rel()
		recvSlot(t, waiter, "waiter").rel()
		inUseIs(t, l, key, 0)
	}
}

// acquireCalls returns TryAcquire and Acquire of l on ctx as functions
// that must fail and return their error. A call that takes a slot
// releases it and returns nil; one that panics returns an error saying so.
func acquireCalls(l slots.Limiter, ctx context.Context) map[string]func(key string, limit int) error {
	wrap := func(f func(context.Context, string, int) (context.Context, func(), error)) func(string, int) error {
		return func(key string, limit int) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			sctx, rel, err := f(ctx, key, limit)
			if rel != nil || sctx != nil {
				if rel != nil {
					rel()
				}
				return fmt.Errorf("took a slot (err %v)", err)
			}
			return err
		}
	}
	return map[string]func(string, int) error{
		"TryAcquire": wrap(l.TryAcquire),
		"Acquire":    wrap(l.Acquire),
	}
}

// testCheckOrder pins which error comes first when several are due: the
// key, then the limit, then a closed Limiter, then a done ctx.
func testCheckOrder(t *testing.T, open OpenWithOptions) {
	live := open(t, 1, Options{})[0]
	closed := open(t, 1, Options{})[0]
	closeAll(t, []slots.Limiter{closed})
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	key := newKey("order")
	limitErr := "limit 0 for key " + slots.QuoteKey(key) + " is less than 1"
	x := &texts{t: t}
	for _, c := range []struct {
		l    slots.Limiter
		ctx  context.Context
		what string
	}{{live, done, "with a done ctx"}, {closed, ctx, "on a closed Limiter"}, {closed, done, "with a done ctx on a closed Limiter"}} {
		for name, call := range acquireCalls(c.l, c.ctx) {
			x.is(name+`("", 0) `+c.what, call("", 0), "empty key")
			x.is(name+"(key, 0) "+c.what, call(key, 0), limitErr)
		}
	}
	for name, call := range acquireCalls(closed, done) {
		if err := call(key, 1); !errors.Is(err, slots.ErrClosed) {
			t.Errorf("%s(key, 1) with a done ctx on a closed Limiter = %v; want ErrClosed: the Limiter before the ctx", name, err)
		}
	}
}

// testDoneCtxRefused checks that TryAcquire and Acquire with a ctx that
// is already done return ctx.Err() and no slot, even for a free key.
func testDoneCtxRefused(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	key := newKey("donectx")
	for _, cause := range []error{nil, errors.New("client hung up")} {
		done, cancel := context.WithCancelCause(t.Context())
		cancel(cause)
		for name, call := range acquireCalls(ls[0], done) {
			if err := call(key, 1); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a done ctx (cause %v) = %v; want context.Canceled", name, cause, err)
			}
		}
	}
	inUseIs(t, ls[0], key, 0)
	mustTry(t, ls[0], t.Context(), key, 1).rel()
	inUseIs(t, ls[0], key, 0)
}

// noPanic runs f and fails t if it panicked.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v; want an error", what, p)
		}
	}()
	f()
}

// testBadLimitsNeverPanic calls every method with bad keys and limits,
// the extremes included: each must return an error, never panic.
func testBadLimitsNeverPanic(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	l := ls[0]
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	key := newKey("extreme")
	for name, call := range acquireCalls(l, ctx) {
		for _, limit := range []int{0, -1, math.MinInt} {
			for _, k := range []string{"", key} {
				if err := call(k, limit); err == nil || strings.HasPrefix(err.Error(), "panic: ") || errors.Is(err, slots.ErrFull) {
					t.Errorf("%s(%q, %d) = %v; want an error about the key or the limit", name, k, limit, err)
				}
			}
		}
	}
	noPanic(t, "AcquireWithin with a bad limit", func() {
		if _, _, err := slots.AcquireWithin(ctx, l, key, math.MinInt, patience); err == nil {
			t.Errorf("AcquireWithin(key, MinInt) = nil error; want an error about the limit")
		}
	})
	noPanic(t, `InUse("")`, func() { l.InUse(ctx, "") })
	noPanic(t, `Load("")`, func() { l.Load(ctx, "") })
	inUseIs(t, l, key, 0)
}
