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
// unreachable until one that Redis answered, or the state's end. Its mu
// guards down; marks counts it, so that an answer costs no lock while no
// master is out of reach.
type nodeReach struct {
	cluster *redis.ClusterClient // nil: not a cluster
	bg      context.Context      // ends when the Limiter closes

	mu    sync.Mutex
	down  map[string]bool // master addresses
	marks atomic.Int64    // len(down)
}

// newNodeReach returns the nodeReach of client.
func newNodeReach(client redis.UniversalClient, bg context.Context) *nodeReach {
	cc, _ := client.(*redis.ClusterClient)
	return &nodeReach{cluster: cc, bg: bg, down: make(map[string]bool)}
}

// note records the outcome of a call naming the slot set rkey, whose
// caller's ctx was not done.
func (n *nodeReach) note(rkey string, err error) {
	down := unreachable(err)
	if n.cluster == nil || !down && n.marks.Load() == 0 {
		return
	}
	addr, ok := n.master(rkey)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if down {
		n.down[addr] = true
	} else {
		delete(n.down, addr)
	}
	n.marks.Store(int64(len(n.down)))
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
	ctx, cancel := context.WithTimeout(n.bg, time.Second)
	defer cancel()
	c, err := n.cluster.MasterForKey(ctx, rkey)
	if err != nil {
		return "", false
	}
	return c.Options().Addr, true
}
