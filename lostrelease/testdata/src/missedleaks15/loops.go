package missedleaks15

import (
	"context"
	"strconv"

	"github.com/ctxguard/release/slots"
)

// A retry loop over an integer: every attempt asks for the same key, and
// a failed attempt's slot is held until the function returns.
func retryAttempts(ctx context.Context, l slots.Limiter, key string) error {
	for attempt := range 3 {
		_, rel, err := l.TryAcquire(ctx, key, 1)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, key+strconv.Itoa(attempt)) == nil {
			return nil
		}
	}
	return errGaveUp
}

// A range loop whose call reads only a variable from outside the loop:
// each iteration asks for the same key.
func sameKeyEachRound(ctx context.Context, l slots.Limiter, keys []routeKey, account string) error {
	for range keys {
		_, rel, err := l.TryAcquire(ctx, account, 1)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The call reads the element only for its limit: each iteration asks for
// the same key.
func sameKeyOtherLimit(ctx context.Context, l slots.Limiter, keys []routeKey, account string) error {
	for _, k := range keys {
		_, rel, err := l.TryAcquire(ctx, account, k.limit)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The range variable is assigned in the body: every iteration may ask for
// the account's key.
func keyReassigned(ctx context.Context, l slots.Limiter, keys []string, account string, shared bool) error {
	for _, key := range keys {
		if shared {
			key = account
		}
		_, rel, err := l.TryAcquire(ctx, key, 1)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// A three-clause loop with the key built from its counter.
func countedShards(ctx context.Context, l slots.Limiter, n int) error {
	for i := 0; i < n; i++ {
		_, rel, err := l.TryAcquire(ctx, "shard:"+strconv.Itoa(i), 1)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// A range over a channel: the same key may come again.
func keysFromChannel(ctx context.Context, l slots.Limiter, keys <-chan string) error {
	for key := range keys {
		_, rel, err := l.TryAcquire(ctx, key, 1)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The acquire is in a loop nested in the range loop: it may retry the key.
func nestedAcquire(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		var rel func()
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if _, rel, err = l.TryAcquire(ctx, k.key, k.limit); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// A failover over backends: each iteration works with its element after
// the defer, and goes round when that failed, holding the failed
// backend's slot until the function returns.
func failoverBackends(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, b.key) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The same, with the element copied before the defer.
func failoverCopied(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		key := b.key
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, key) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The key loop runs again in a retry loop around it: each attempt holds
// every key's slot again.
func retryAllKeys(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for range 3 {
		for _, k := range keys {
			_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
			if err != nil {
				return err
			}
			defer rel() // want `deferred in a loop`
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if serve() == nil {
			return nil
		}
	}
	return errGaveUp
}

type backendPool struct{ cur routeKey }

func (p *backendPool) forward(ctx context.Context) error { return forward(ctx, p.cur.key) }

// A failover that keeps its element in a field before the acquire, and
// works with it after the defer.
func failoverThroughField(ctx context.Context, l slots.Limiter, p *backendPool, backends []routeKey) error {
	for _, b := range backends {
		p.cur = b
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if p.forward(ctx) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The same through a variable declared outside the loop.
func failoverThroughVariable(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	var cur string
	for _, b := range backends {
		cur = b.key
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, cur) == nil {
			return nil
		}
	}
	return errGaveUp
}

// A retry over an integer that rotates over replicas: the counter read
// through an index names a key, but the same key comes round again.
func retryRotating(ctx context.Context, l slots.Limiter, replicas []string) error {
	for attempt := range 4 {
		_, rel, err := l.TryAcquire(ctx, replicas[attempt%len(replicas)], 1)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, "") == nil {
			return nil
		}
	}
	return errGaveUp
}

// A key loop that a goto runs again: each run holds every key's slot
// again.
func retryKeysByGoto(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	tries := 0
again:
	for _, k := range keys {
		_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			break
		}
	}
	if tries++; serve() != nil && tries < 3 {
		goto again
	}
	return nil
}

// A failover that ranges into a variable of the function, which a closure
// declared before the loop reads after the defer.
func failoverThroughClosure(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	var b routeKey
	served := func() bool { return forward(ctx, b.key) == nil }
	for _, b = range backends {
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if served() {
			return nil
		}
	}
	return errGaveUp
}
