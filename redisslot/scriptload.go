package redisslot

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// A scriptLoader loads again the scripts of calls answered NOSCRIPT, each
// once where those calls run. On a Redis Cluster that is the master of the
// call's first key alone: go-redis's Script.Load on a ClusterClient waits
// for every master, so one that does not answer would hold up calls to
// the others. Elsewhere it loads through the client.
type scriptLoader struct {
	client redis.UniversalClient
	done   map[scriptAt]error // each load's outcome
}

// A scriptAt is a script on a master (addr "" but on a cluster).
type scriptAt struct {
	s    *redis.Script
	addr string
}

// load loads s for a call whose first key is key, unless it did already,
// and returns the load's error.
func (l *scriptLoader) load(ctx context.Context, s *redis.Script, key string) error {
	var at redis.Scripter = l.client
	where := scriptAt{s: s}
	if cc, ok := l.client.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		at, where.addr = node, node.Options().Addr
	}
	if err, ok := l.done[where]; ok {
		return err
	}
	err := s.Load(ctx, at).Err()
	if l.done == nil {
		l.done = make(map[scriptAt]error)
	}
	l.done[where] = err
	return err
}
