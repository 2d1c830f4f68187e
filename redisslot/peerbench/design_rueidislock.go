package main

import (
	"context"

	"github.com/redis/rueidis"
	"github.com/redis/rueidis/rueidislock"
)

// rueidislockInstance is a rueidislock Locker with its own rueidis client,
// as its documentation sets one up for a single Redis: one key per lock
// (KeyMajority 1), and NOLOOP tracking (Redis 7.0.5 or later). A waiter
// tries again when client-side caching tells it the key changed.
type rueidislockInstance struct{ l rueidislock.Locker }

func openRueidislock(e env) (instance, error) {
	l, err := rueidislock.NewLocker(rueidislock.LockerOption{
		ClientOption:   rueidis.ClientOption{InitAddress: []string{e.addr}},
		KeyPrefix:      e.prefix + "rueidislock",
		KeyMajority:    1,
		NoLoopTracking: true,
	})
	if err != nil {
		return nil, err
	}
	return rueidislockInstance{l}, nil
}

// acquire takes the lock; limit is always 1 (the design is mutexOnly).
func (r rueidislockInstance) acquire(ctx context.Context, key string, _ int) (func(), error) {
	_, cancel, err := r.l.WithContext(ctx, key)
	if err != nil {
		return nil, err
	}
	return func() { cancel() }, nil
}

func (r rueidislockInstance) close() error {
	r.l.Close()
	return nil
}
