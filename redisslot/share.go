package redisslot

import (
	"context"
	"errors"
	"time"

	"github.com/ctxguard/release"
)

// errToShare ends an attempt through Redis when Redis cannot be reached
// and the fallback state is on: the caller is served from the share.
var errToShare = errors.New("redisslot: Redis cannot be reached: serve from the share")

// toShare reports whether err, of a call through Redis whose caller is
// still waiting, sends the caller to the fallback share: Redis cannot be
// reached, and the state is on (the call that met the failure began it).
func (a *attempt) toShare(err error) bool {
	return a.l.fb.enabled() && a.ctx.Err() == nil && unreachable(err) && a.l.fb.degraded()
}

// share takes a slot from the key's fallback share: at once when it has
// room and nobody waits, else (when wait is set) after waiting in the
// key's local line. When the share refuses, it returns ErrFull or
// ErrQueueFull naming the key; when the state has ended, errBackToRedis,
// and the caller goes back to Redis with a new member id.
func (a *attempt) share(wait bool) (context.Context, func(), error) {
	l := a.l
	taken, on := l.fb.take(a.ref.key, a.limit)
	switch {
	case taken:
		return a.keepShared()
	case !on:
		a.member = l.members.next(a.limit)
		return nil, nil, errBackToRedis
	case !wait:
		return nil, nil, fullFor(a.ref.key)
	}
	l.emit.waiterJoined(a.ref.key)
	err := l.fb.wait(a.ctx, a.ref.key, a.limit, l.closing)
	l.emit.waiterLeft(a.ref.key)
	switch err {
	case nil:
		return a.keepShared()
	case ErrQueueFull:
		return nil, nil, queueFullFor(a.ref.key)
	case errBackToRedis:
		a.member = l.members.next(a.limit)
		return nil, nil, err
	default:
		return nil, nil, err
	}
}

// keepShared records a slot taken from the fallback share, under a new
// member id (the attempt's may be on its way to Redis), and returns its
// context and release. Redis learns of it when it answers again.
func (a *attempt) keepShared() (context.Context, func(), error) {
	l := a.l
	if err := a.ctx.Err(); err != nil {
		l.fb.put(a.ref.key)
		return nil, nil, err
	}
	sctx, cancel := context.WithCancelCause(a.ctx)
	member := l.members.next(a.limit)
	s := &holding{ref: a.ref, member: member, cancel: cancel, end: l.released, fallback: true, obs: slotObs{sctx, a.ctx, time.Now()}}
	if !l.clock.hold(s) {
		cancel(ErrClosed)
		l.fb.put(a.ref.key)
		return nil, nil, ErrClosed
	}
	a.shared = true
	l.renewer.wake()
	return sctx, release.WrapOnDone(sctx, s.release), nil
}

// fromShare reports whether a, if any, got its slot from the fallback
// share.
func (a *attempt) fromShare() bool { return a != nil && a.shared }
