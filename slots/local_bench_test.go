package slots_test

import (
	"container/list"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

// acquirer is what the benchmarks compare: Local, and the baseline.
type acquirer interface {
	TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
	Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
}

// baseline is what a service writes by hand without slots: a map of
// weighted semaphores, in the style of golang.org/x/sync/semaphore (FIFO
// waiters, TryAcquire refused while any wait), under a mutex, each key
// counted so that its semaphore is dropped when unused, and a guard made
// by release.WrapOnDone on the caller's ctx. Unlike Local it makes no
// slot context (the caller's ctx is returned), so it cannot end the
// slot's work on Close, and its limit is fixed by the first caller of a
// key.
type baseline struct {
	mu   sync.Mutex
	sems map[string]*weighted
}

func newBaseline() *baseline { return &baseline{sems: make(map[string]*weighted)} }

// ref returns key's semaphore, made with size limit if new, counting one
// more user of it.
func (b *baseline) ref(key string, limit int) *weighted {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sems[key]
	if s == nil {
		s = &weighted{size: int64(limit)}
		b.sems[key] = s
	}
	s.refs++
	return s
}

// unref counts one user of key's semaphore less, dropping it at zero.
func (b *baseline) unref(key string, s *weighted) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.refs--; s.refs == 0 {
		delete(b.sems, key)
	}
}

func (b *baseline) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	s := b.ref(key, limit)
	if !s.tryAcquire() {
		b.unref(key, s)
		return nil, nil, slots.ErrFull
	}
	return ctx, release.WrapOnDone(ctx, func() { s.release(); b.unref(key, s) }), nil
}

func (b *baseline) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	s := b.ref(key, limit)
	if err := s.acquire(ctx); err != nil {
		b.unref(key, s)
		return nil, nil, err
	}
	return ctx, release.WrapOnDone(ctx, func() { s.release(); b.unref(key, s) }), nil
}

// weighted is a counting semaphore of weight-1 holders, as
// golang.org/x/sync/semaphore.Weighted is for that case.
type weighted struct {
	refs    int // guarded by the baseline's mu
	size    int64
	mu      sync.Mutex
	cur     int64
	waiters list.List // of chan struct{}
}

func (s *weighted) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur < s.size && s.waiters.Len() == 0 {
		s.cur++
		return true
	}
	return false
}

func (s *weighted) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.cur < s.size && s.waiters.Len() == 0 {
		s.cur++
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	elem := s.waiters.PushBack(ready)
	s.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-ready: // acquired as ctx ended: give it back
			s.cur--
			s.notify()
		default:
			s.waiters.Remove(elem)
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *weighted) release() {
	s.mu.Lock()
	s.cur--
	s.notify()
	s.mu.Unlock()
}

// notify wakes waiters, oldest first, while there is room. s.mu is held.
func (s *weighted) notify() {
	for s.cur < s.size {
		e := s.waiters.Front()
		if e == nil {
			return
		}
		s.cur++
		s.waiters.Remove(e)
		close(e.Value.(chan struct{}))
	}
}

// impls are the acquirers compared, made fresh for each benchmark.
var impls = []struct {
	name string
	make func() acquirer
}{
	{"Local", func() acquirer { return slots.NewLocal(slots.LocalOptions{}) }},
	{"Baseline", func() acquirer { return newBaseline() }},
}

// BenchmarkTryAcquireRelease takes and frees a slot of one key, from one
// goroutine (nobody else holds or waits), with a cancelable ctx as an
// HTTP request has.
func BenchmarkTryAcquireRelease(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			a := impl.make()
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				_, rel, err := a.TryAcquire(ctx, "user:1", 1)
				if err != nil {
					b.Fatal(err)
				}
				rel()
			}
		})
	}
}

// BenchmarkAcquireContended has 4 goroutines per P take and free slots
// of one key with limit 2, so that most Acquire calls wait in line.
func BenchmarkAcquireContended(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			a := impl.make()
			ctx := b.Context()
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, rel, err := a.Acquire(ctx, "account:1", 2)
					if err != nil {
						b.Error(err)
						return
					}
					rel()
				}
			})
		})
	}
}

// BenchmarkAcquireManyKeys has 4 goroutines per P each take and free
// slots of a key of its own: no key is contended, the table of keys is.
func BenchmarkAcquireManyKeys(b *testing.B) {
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			a := impl.make()
			ctx := b.Context()
			var id atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				key := "user:" + strconv.FormatInt(id.Add(1), 10)
				for pb.Next() {
					_, rel, err := a.Acquire(ctx, key, 1)
					if err != nil {
						b.Error(err)
						return
					}
					rel()
				}
			})
		})
	}
}
