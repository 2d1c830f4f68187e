package redisslot

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// evalByMaster runs calls as evalAll does and returns a command per call.
// On a Redis Cluster (master not nil) it sends one pipeline per master, all
// at once, and calls ended with the indexes of a master's calls, and the
// commands so far, as soon as that master's pipeline has ended: a master
// that does not answer holds up, to ctx's end, only its own calls' outcome.
// One pipeline of a cluster client ends only when all its masters' calls
// have. noScript hears call i answered NOSCRIPT, as in evalAll; it and
// ended may run on several goroutines at once, each with its own indexes.
// master tells the master of a call's first key ("": it cannot tell; those
// calls go together).
func evalByMaster(ctx context.Context, c redis.UniversalClient, master func(rkey string) string, calls []call, noScript func(i int), ended func(idx []int, cmds []*redis.Cmd)) []*redis.Cmd {
	groups := make(map[string][]int)
	if master != nil {
		for i, cl := range calls {
			addr := master(cl.keys[0])
			groups[addr] = append(groups[addr], i)
		}
	}
	if len(groups) <= 1 {
		return evalAll(ctx, c, calls, noScript)
	}
	cmds := make([]*redis.Cmd, len(calls))
	var wg sync.WaitGroup
	for _, idx := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := make([]call, len(idx))
			for j, i := range idx {
				part[j] = calls[i]
			}
			var heard func(int)
			if noScript != nil {
				heard = func(j int) { noScript(idx[j]) }
			}
			got := evalAll(ctx, c, part, heard)
			for j, i := range idx {
				cmds[i] = got[j] // each goroutine writes its own indexes
			}
			ended(idx, cmds)
		}()
	}
	wg.Wait()
	return cmds
}
