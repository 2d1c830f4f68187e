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
// unreachable, and a PING to the master that failed too, until a call that
// Redis answered, or the state's end. The PING tells a master that does
// not answer from a call sent on, by an ASK or a MOVED, to another node
// that does not (a resharding's target): go-redis's error does not name
// the node. Calls of one master share its PING (see answers). Its mu
// guards down and pings; marks counts down, so that an answer costs no lock while
// no master is out of reach.
type nodeReach struct {
	cluster *redis.ClusterClient // nil: not a cluster
	bg      context.Context      // ends when the Limiter closes

	mu    sync.Mutex
	down  map[string]bool  // master addresses
	pings map[string]*ping // by master: its last PING
	marks atomic.Int64     // len(down)
}

// newNodeReach returns the nodeReach of client.
func newNodeReach(client redis.UniversalClient, bg context.Context) *nodeReach {
	cc, _ := client.(*redis.ClusterClient)
	return &nodeReach{cluster: cc, bg: bg, down: make(map[string]bool), pings: make(map[string]*ping)}
}

// note records the outcome of a call naming the slot set rkey, whose
// caller's ctx was not done.
func (n *nodeReach) note(rkey string, err error) {
	down := unreachable(err)
	if n.cluster == nil || !down && n.marks.Load() == 0 {
		return
	}
	c, ok := n.masterClient(rkey)
	if !ok || down && n.answers(c) {
		return
	}
	addr := c.Options().Addr
	n.mu.Lock()
	defer n.mu.Unlock()
	if down {
		n.down[addr] = true
	} else {
		delete(n.down, addr)
	}
	n.marks.Store(int64(len(n.down)))
}

// answers reports whether the master c, not yet marked, answers a PING
// (any reply but one that counts as unreachable), bounded by pingBound.
// Concurrent callers of one master wait for one PING, and a PING answered
// stands for pingBound after it: a round whose calls of many keys of one
// master failed elsewhere sends one PING, not one a key.
func (n *nodeReach) answers(c *redis.Client) bool {
	addr := c.Options().Addr
	n.mu.Lock()
	if n.down[addr] {
		n.mu.Unlock()
		return false
	}
	p := n.pings[addr]
	shared := p != nil && (!p.over() || p.answered && time.Since(p.ended) < pingBound)
	if !shared {
		p = &ping{done: make(chan struct{})}
		n.pings[addr] = p
	}
	n.mu.Unlock()
	if shared {
		<-p.done
		return p.answered
	}
	ctx, cancel := context.WithTimeout(n.bg, pingBound)
	defer cancel()
	p.answered = !unreachable(c.Ping(ctx).Err())
	p.ended = time.Now()
	close(p.done)
	return p.answered
}

// pingBound bounds a PING to a master, and is how long its answer stands.
const pingBound = time.Second

// A ping is a PING to a master, under way or ended, which its callers
// share. Its fields are set before done is closed, and read after.
type ping struct {
	done     chan struct{}
	answered bool
	ended    time.Time
}

// over reports whether p has ended.
func (p *ping) over() bool {
	select {
	case <-p.done:
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
