package redisslot

import (
	"context"
	"maps"
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
// that Redis answered, or the state's end. A master whose check failed is
// back at the next call naming one of its keys that Redis answered, or
// once the client's view names another master for the key whose check
// failed (a failover): back, which looks for the slots a restart or a
// failover may have lost, runs then (on other clients, health runs it: see
// Limiter). An answer to a call sent before the master's check failed
// tells nothing of it now (it may have answered before it stopped) and
// changes nothing. A call that another master answers tells nothing of
// this one, nor does a call that failed elsewhere. The check tells a
// master that does not answer from a call sent on, by an ASK or a MOVED,
// to another node that does not (a resharding's target): go-redis's error
// does not name the node. It is an EXISTS of the call's slot set sent to the master
// alone, which a master that cannot serve the key (a cluster down, a
// master loading) refuses as it refused the call; one goroutine runs it,
// bounded by checkBound, and marks the master if it fails (see check).
//
// Its mu guards down, failed, marked and checks; marks counts down and
// failed, so that an answer costs no lock while every master answers; wg
// counts the checks' goroutines. back runs with no lock held.
type nodeReach struct {
	cluster *redis.ClusterClient // nil: not a cluster
	bg      context.Context      // ends when the Limiter closes
	back    func()               // a master whose call failed answers again

	mu     sync.Mutex
	down   map[string]bool         // master addresses: out of reach
	failed map[string]string       // master addresses, not yet back: the slot set its failed check named
	marked map[string]time.Time    // master addresses, not yet back: when its check failed
	checks map[string]*masterCheck // by master: its last check
	marks  atomic.Int64            // len(down) + len(failed)
	wg     sync.WaitGroup

	viewed  atomic.Bool // the client has had a view of the cluster
	loading atomic.Bool // a goroutine has it load one (see loadView)
}

// newNodeReach returns the nodeReach of client.
func newNodeReach(client redis.UniversalClient, bg context.Context, back func()) *nodeReach {
	cc, _ := client.(*redis.ClusterClient)
	n := &nodeReach{cluster: cc, bg: bg, back: back,
		down: make(map[string]bool), failed: make(map[string]string), marked: make(map[string]time.Time),
		checks: make(map[string]*masterCheck)}
	if cc != nil {
		n.loadView("")
	}
	return n
}

// note records the outcome of a call naming the slot set rkey, sent at
// sent, whose caller's ctx was not done; ctx bounds the look for the key's
// master.
// After a failure it returns the check of the master, which the caller may
// wait for (nil: none).
func (n *nodeReach) note(ctx context.Context, rkey string, err error, sent time.Time) *masterCheck {
	down := unreachable(err)
	if n.cluster == nil || !down && n.marks.Load() == 0 {
		return nil
	}
	c, ok := n.masterClient(ctx, rkey)
	switch {
	case !ok:
		return nil
	case down:
		return n.check(c, rkey)
	}
	if n.answered(c.Options().Addr, sent) || n.movedAway(ctx) {
		n.back()
	}
	return nil
}

// answered forgets the marks of the master at addr, which answered a call
// sent at sent, and reports whether it was back; unless the call was sent
// before its check failed.
func (n *nodeReach) answered(addr string, sent time.Time) (back bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if at, ok := n.marked[addr]; ok && sent.Before(at) {
		return false
	}
	_, back = n.failed[addr]
	delete(n.down, addr)
	delete(n.failed, addr)
	delete(n.marked, addr)
	n.marks.Store(int64(len(n.down) + len(n.failed)))
	return back
}

// movedAway forgets each master, not yet back, that the client's view no
// longer names for the slot set its failed check named, and reports
// whether there was one: a failover moved its hash slots.
func (n *nodeReach) movedAway(ctx context.Context) (moved bool) {
	n.mu.Lock()
	failed := maps.Clone(n.failed)
	n.mu.Unlock()
	for addr, rkey := range failed {
		if c, ok := n.masterClient(ctx, rkey); !ok || c.Options().Addr == addr {
			continue
		}
		n.mu.Lock()
		if n.failed[addr] == rkey {
			delete(n.failed, addr)
			delete(n.down, addr)
			delete(n.marked, addr)
			n.marks.Store(int64(len(n.down) + len(n.failed)))
			moved = true
		}
		n.mu.Unlock()
	}
	return moved
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
// master out of reach, and failed with rkey, if it fails unreachable.
func (n *nodeReach) run(k *masterCheck, c *redis.Client, rkey string) {
	defer n.wg.Done()
	ctx, cancel := context.WithTimeout(n.bg, checkBound)
	err := c.Exists(ctx, rkey).Err()
	cancel()
	n.mu.Lock()
	k.answered, k.ended = !unreachable(err), time.Now()
	if addr := c.Options().Addr; !k.answered && n.bg.Err() == nil {
		n.down[addr] = true
		n.failed[addr] = rkey
		n.marked[addr] = time.Now()
		n.marks.Store(int64(len(n.down) + len(n.failed)))
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

// perMaster reports whether the client is a cluster's: then n follows each
// master, and tells when one whose call failed is back.
func (n *nodeReach) perMaster() bool { return n.cluster != nil }

// outOfReach reports whether the master of the slot set rkey is out of
// reach: always, but on a cluster, where a master that cannot be told is.
func (n *nodeReach) outOfReach(ctx context.Context, rkey string) bool {
	if n.cluster == nil {
		return true
	}
	addr, ok := n.master(ctx, rkey)
	if !ok {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down[addr]
}

// masterOf returns, on a cluster, the address of the master of the slot
// set rkey, for isDown to tell at each grant whether it is out of reach;
// "" if the client cannot name it, or on other clients.
func (n *nodeReach) masterOf(ctx context.Context, rkey string) string {
	if n.cluster == nil {
		return ""
	}
	addr, _ := n.master(ctx, rkey)
	return addr
}

// downFunc returns isDown on a cluster, nil on other clients.
func (n *nodeReach) downFunc() func(addr string) bool {
	if n.cluster == nil {
		return nil
	}
	return n.isDown
}

// isDown reports whether the master at addr is out of reach.
func (n *nodeReach) isDown(addr string) bool {
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
	n.marks.Store(int64(len(n.failed)))
}

// masters returns, on a cluster, what tells the address of the master of a
// slot set ("" if the client cannot tell); nil on other clients.
func (n *nodeReach) masters() func(rkey string) string {
	if n.cluster == nil {
		return nil
	}
	return func(rkey string) string {
		addr, _ := n.master(n.bg, rkey)
		return addr
	}
}

// master returns the address of the master of rkey's hash slot, by the
// client's view of the cluster (a master it cannot load that view from
// counts as out of reach).
func (n *nodeReach) master(ctx context.Context, rkey string) (string, bool) {
	c, ok := n.masterClient(ctx, rkey)
	if !ok {
		return "", false
	}
	return c.Options().Addr, true
}

// masterClient returns the client of the master of rkey's hash slot, by
// the client's view of the cluster, bounded by ctx and a second. Until the
// client has had a view, it names none: go-redis would load one first, a
// call to a cluster that may not answer, which a goroutine makes instead
// (see loadView).
func (n *nodeReach) masterClient(ctx context.Context, rkey string) (*redis.Client, bool) {
	if !n.viewed.Load() {
		n.loadView(rkey)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := n.cluster.MasterForKey(ctx, rkey)
	return c, err == nil
}

// loadView has the client load its view of the cluster, asking it for the
// master of rkey on a goroutine of its own, bounded by checkBound, unless
// one does already or the Limiter has closed. New starts one, and each
// look for a master starts another until one has loaded a view.
func (n *nodeReach) loadView(rkey string) {
	if !n.loading.CompareAndSwap(false, true) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.bg.Err() != nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.loading.Store(false)
		ctx, cancel := context.WithTimeout(n.bg, checkBound)
		defer cancel()
		if _, err := n.cluster.MasterForKey(ctx, rkey); err == nil {
			n.viewed.Store(true)
		}
	}()
}
