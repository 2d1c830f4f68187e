package main

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// localInstance is a slots.Local: every caller in one process, no Redis.
type localInstance struct{ l *slots.Local }

func openLocal(env) (instance, error) {
	return localInstance{slots.NewLocal(slots.LocalOptions{})}, nil
}

func (l localInstance) acquire(ctx context.Context, key string, limit int) (func(), error) {
	_, release, err := l.l.Acquire(ctx, key, limit)
	return release, err
}

func (l localInstance) close() error { return l.l.Close() }
