package redisslot

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A nodeReach follows, on a Redis Cluster client, which masters a Limiter's
// calls could not reach, so that while the fallback state is on only the
// keys of those masters are served from the share: a key whose master
// answers goes to Redis, and its limit holds. The fallback state itself
// is the Limiter's (see health): one master out of reach begins it. On any
// other client every key is out of reach with Redis.
//
// A master is out of reach from a call naming one of its keys that failed
// unreachable, and a check of the master that failed too, until a call
// that Redis answered, or the state's end. The check tells a master that
// does not answer from a call sent on, by an ASK or a MOVED, to another
// node that does not (a resharding's target): go-redis's error does not
// name the node. It is an EXISTS of the call's slot set sent to the master
// alone, which a master that cannot serve the key (a cluster down, a
// master loading) refuses as it refused the call; one goroutine runs it,
// bounded by checkBound, and marks the master if it fails (see check).
//
// Its mu guards down and checks; marks counts down, so that an answer
// costs no lock while no master is out of reach; wg counts the checks'
// goroutines.
type nodeReach struct {
	cluster *redis.ClusterClient // nil: not a cluster
	bg      context.Context      // ends when the Limiter closes

	mu     sync.Mutex
	down   map[string]bool         // master addresses
	checks map[string]*masterCheck // by master: its last check
	marks  atomic.Int64            // len(down)
	wg     sync.WaitGroup
}

// newNodeReach returns the nodeReach of client.
func newNodeReach(client redis.UniversalClient, bg context.Context) *nodeReach {
	cc, _ := client.(*redis.ClusterClient)
	return &nodeReach{cluster: cc, bg: bg, down: make(map[string]bool), checks: make(map[string]*masterCheck)}
}

// note records the outcome of a call naming the slot set rkey, whose
// caller's ctx was not done. After a failure it returns the check of the
// key's master, which the caller may wait for (nil: none).
func (n *nodeReach) note(rkey string, err error) *masterCheck {
	down := unreachable(err)
	if n.cluster == nil || !down && n.marks.Load() == 0 {
		return nil
	}
	c, ok := n.masterClient(rkey)
	switch {
	case !ok:
		return nil
	case down:
		return n.check(c, rkey)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.down, c.Options().Addr)
	n.marks.Store(int64(len(n.down)))
	return nil
}

// check returns the check of the master c, not yet marked, starting one
// unless one is under way or one it answered ended less than checkBound
// ago: the calls of one master that fail at once, or in one round, share a
// check, and a slow master cannot stretch a round key by key.
func (n *nodeReach) check(c *redis.Client, rkey string) *masterCheck {
	addr := c.Options().Addr
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.down[addr] || n.bg.Err() != nil {
		return nil
	}
	if k := n.checks[addr]; k != nil && (!k.over() || k.answered && time.Since(k.ended) < checkBound) {
		return k
	}
	k := &masterCheck{done: make(chan struct{})}
	n.checks[addr] = k
	n.wg.Add(1)
	go n.run(k, c, rkey)
	return k
}

// run sends check k, an EXISTS of rkey, to the master c, and marks the
// master out of reach if it fails unreachable.
func (n *nodeReach) run(k *masterCheck, c *redis.Client, rkey string) {
	defer n.wg.Done()
	ctx, cancel := context.WithTimeout(n.bg, checkBound)
	err := c.Exists(ctx, rkey).Err()
	cancel()
	n.mu.Lock()
	k.answered, k.ended = !unreachable(err), time.Now()
	if !k.answered && n.bg.Err() == nil {
		n.down[c.Options().Addr] = true
		n.marks.Store(int64(len(n.down)))
	}
	n.mu.Unlock()
	close(k.done)
}

// stop waits for the checks' goroutines; the Limiter has ended bg.
func (n *nodeReach) stop() { n.wg.Wait() }

// checkBound bounds a check of a master, and is how long its answer stands.
const checkBound = time.Second

// A masterCheck is a check of a master, under way or ended, which the
// calls that failed share. Its fields are set under the nodeReach's mu,
// before done is closed.
type masterCheck struct {
	done     chan struct{}
	answered bool
	ended    time.Time
}

// wait waits until k has ended, or ctx has; k may be nil.
func (k *masterCheck) wait(ctx context.Context) {
	if k == nil {
		return
	}
	select {
	case <-k.done:
	case <-ctx.Done():
	}
}

// over reports whether k has ended.
func (k *masterCheck) over() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// outOfReach reports whether the master of the slot set rkey is out of
// reach: always, but on a cluster, where a master that cannot be told is.
func (n *nodeReach) outOfReach(rkey string) bool {
	if n.cluster == nil {
		return true
	}
	addr, ok := n.master(rkey)
	if !ok {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down[addr]
}

// clear forgets every mark: the fallback state has ended.
func (n *nodeReach) clear() {
	if n.cluster == nil || n.marks.Load() == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.down)
	n.marks.Store(0)
}

// masters returns, on a cluster, what tells the address of the master of a
// slot set ("" if the client cannot tell); nil on other clients.
func (n *nodeReach) masters() func(rkey string) string {
	if n.cluster == nil {
		return nil
	}
	return func(rkey string) string {
		addr, _ := n.master(rkey)
		return addr
	}
}

// master returns the address of the master of rkey's hash slot, by the
// client's view of the cluster (a master it cannot load that view from
// counts as out of reach).
func (n *nodeReach) master(rkey string) (string, bool) {
	c, ok := n.masterClient(rkey)
	if !ok {
		return "", false
	}
	return c.Options().Addr, true
}

// masterClient returns the client of the master of rkey's hash slot, by
// the client's view of the cluster.
func (n *nodeReach) masterClient(rkey string) (*redis.Client, bool) {
	ctx, cancel := context.WithTimeout(n.bg, time.Second)
	defer cancel()
	c, err := n.cluster.MasterForKey(ctx, rkey)
	return c, err == nil
}
