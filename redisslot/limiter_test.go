package redisslot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// InUse counts live holders only: members whose lease has not ended by
// Redis time.
func TestInUseCountsOnlyLiveHoldersByRedisTime(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	for range 2 {
		_, rel := mustTry(t, f.l, ctx, "k", 5)
		defer rel()
	}
	rkey := testPrefix(t) + "{k}"
	ended := redisNowMs(t, raw) - 1
	if err := raw.ZAdd(ctx, rkey, redis.Z{Score: ended, Member: "ended-elsewhere"}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := inUse(t, f.l, "k"); n != 2 {
		t.Errorf("InUse = %d with 2 live members and 1 whose lease ended; want 2", n)
	}
	if n := inUse(t, f.l, "nobody"); n != 0 {
		t.Errorf("InUse of an unused key = %d; want 0", n)
	}
}

// A nil OnError logs background errors with log/slog's default logger.
func TestNilOnErrorLogsWithSlogDefault(t *testing.T) {
	srv := redistest.Shared(t)
	var mu sync.Mutex
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&lockedWriter{&mu, &buf}, nil)))
	defer slog.SetDefault(old)

	c := srv.Client(t)
	errInjected := errors.New("test: free failed")
	c.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return failWith(cmds, errInjected)
	}})
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: testLease})
	defer l.Close()
	_, rel := mustTry(t, l, ctxWithTimeout(t), "k", 1)
	rel()
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
	eventually(t, "the failed free is logged at level ERROR", func() bool {
		s := logged()
		return strings.Contains(s, errInjected.Error()) && strings.Contains(s, "level=ERROR")
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
