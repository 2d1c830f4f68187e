package redisslot

import (
	"sync"
	"time"
)

// A leaseClock holds a Limiter's slots, and ends each one whose lease was
// not confirmed in time: life (Lease minus the margin) after the last
// acquire or renewal of it that Redis confirmed was sent. Every deadline is
// on one timer, which no goroutine waits on; nothing that talks to Redis
// takes its lock, so no call in flight can delay the end of a slot.
//
// Its mu guards every field below it, and the set, fallback and offered
// fields of every slot it holds. expired runs with no lock held; pend runs
// with mu held, and takes no lock but its own.
type leaseClock struct {
	life    time.Duration
	expired func([]*holding) // slots dropped at their deadline, their contexts not yet ended
	pend    func(*holding)   // makes the free of a released slot pending (see drop)

	mu      sync.Mutex
	held    map[string]*heldKey // by the name of the key's slot set
	n       int                 // slots held
	timer   *time.Timer         // nil until the first slot
	due     time.Time           // when the timer fires; zero while it is stopped
	stopped bool
	firing  sync.WaitGroup // expired calls in progress; Add only with mu held and stopped false
	epoch   uint64         // forgets so far (see forget)
}

// A heldKey is one key's slots. It stays, empty, until the next each, so that
// a key freed and taken again at once costs no new map.
type heldKey struct {
	ref   *keyRef
	slots map[string]*holding // by member id
}

func newLeaseClock(life time.Duration, expired func([]*holding), pend func(*holding)) *leaseClock {
	return &leaseClock{life: life, expired: expired, pend: pend, held: make(map[string]*heldKey)}
}

// hold adds s, whose lease Redis set when s.set was sent, unless stopped.
func (c *leaseClock) hold(s *holding) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	hk := c.held[s.ref.rkey()]
	if hk == nil {
		hk = &heldKey{ref: s.ref, slots: make(map[string]*holding)}
		c.held[s.ref.rkey()] = hk
	}
	hk.slots[s.member] = s
	c.n++
	if !s.fallback {
		c.arm(s.set.Add(c.life))
	}
	return true
}

// drop forgets s and reports whether it was held (only the first to drop a
// slot ends it), whether Redis did not know it yet (a fallback slot), and
// whether Redis may know it (no fallback slot, or one offered to Redis).
//
// When s was held and Redis may know it, drop makes its free pending, with
// pend, before it lets go of the lock. So once stop has returned, every
// slot the clock held is either in stop's list or has its free pending:
// a release racing Close leaves no free that Close does not send.
func (c *leaseClock) drop(s *holding) (held, fallback, offered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	held, fallback, offered = c.dropLocked(s), s.fallback, !s.fallback || s.offered
	if held && offered {
		c.pend(s)
	}
	return held, fallback, offered
}

func (c *leaseClock) dropLocked(s *holding) bool {
	hk := c.held[s.ref.rkey()]
	if hk == nil || hk.slots[s.member] != s {
		return false
	}
	delete(hk.slots, s.member)
	c.n--
	return true
}

// adopt records that Redis set the leases of the fallback slots in a call
// sent at sent, and returns those still held.
func (c *leaseClock) adopt(slots []*holding, sent time.Time) []*holding {
	c.mu.Lock()
	defer c.mu.Unlock()
	var adopted []*holding
	for _, s := range slots {
		hk := c.held[s.ref.rkey()]
		if hk == nil || hk.slots[s.member] != s || !s.fallback {
			continue
		}
		s.fallback, s.set = false, sent
		c.arm(sent.Add(c.life))
		adopted = append(adopted, s)
	}
	return adopted
}

// renewed records that Redis extended the leases of slots in a call sent
// at sent and built at epoch (see epochNow), except for the members in
// gone, which it no longer had: it drops those and returns the ones still
// held, which lost their lease (a slot released meanwhile was freed, not
// lost). A call built before the last forget confirms nothing else: a
// restart may have undone its writes.
func (c *leaseClock) renewed(slots []*holding, gone []string, sent time.Time, epoch uint64) (lost []*holding) {
	var missing map[string]bool
	if len(gone) > 0 {
		missing = make(map[string]bool, len(gone))
		for _, m := range gone {
			missing[m] = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	current := epoch == c.epoch
	for _, s := range slots {
		switch {
		case missing[s.member]:
			if c.dropLocked(s) {
				lost = append(lost, s)
			}
		case current && s.set.Before(sent):
			s.set = sent
		}
	}
	return lost
}

// forget has the renewals built before it confirm no lease (see renewed),
// for a restart or a failover may have undone their writes. It returns the
// new epoch.
func (c *leaseClock) forget() (epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	return c.epoch
}

// epochNow returns the number of forgets so far: read before a renewal is built.
func (c *leaseClock) epochNow() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// leased returns up to n of the slots held with a lease (no fallback slot
// Redis does not know yet), in no order.
func (c *leaseClock) leased(n int) []*holding {
	c.mu.Lock()
	defer c.mu.Unlock()
	var slots []*holding
	for _, hk := range c.held {
		for _, s := range hk.slots {
			if len(slots) == n {
				return slots
			}
			if !s.fallback {
				slots = append(slots, s)
			}
		}
	}
	return slots
}

// holds reports whether s is held.
func (c *leaseClock) holds(s *holding) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	hk := c.held[s.ref.rkey()]
	return hk != nil && hk.slots[s.member] == s
}

// each calls f, which must not block, for every key held, forgetting empty ones.
func (c *leaseClock) each(f func(*heldKey)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for rkey, hk := range c.held {
		if len(hk.slots) == 0 {
			delete(c.held, rkey)
			continue
		}
		f(hk)
	}
}

func (c *leaseClock) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// stop drops and returns every slot, and waits for an expired call in
// progress: no slot ends after it but those it returned.
func (c *leaseClock) stop() []*holding {
	c.mu.Lock()
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
	}
	var all []*holding
	for _, hk := range c.held {
		for _, s := range hk.slots {
			all = append(all, s)
		}
	}
	c.held, c.n = make(map[string]*heldKey), 0
	c.mu.Unlock()
	c.firing.Wait()
	return all
}

// arm makes the timer fire by deadline. The caller holds mu.
func (c *leaseClock) arm(deadline time.Time) {
	if !c.due.IsZero() && !deadline.Before(c.due) {
		return
	}
	c.due = deadline
	d := time.Until(deadline)
	if c.timer == nil {
		c.timer = time.AfterFunc(d, c.fire)
	} else {
		c.timer.Reset(d)
	}
}

// fire, the timer's function, hands the slots past their deadline to expired.
func (c *leaseClock) fire() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	var ended []*holding
	var next time.Time
	for _, hk := range c.held {
		for _, s := range hk.slots {
			if s.fallback {
				continue // no lease to lose
			}
			deadline := s.set.Add(c.life)
			if !now.Before(deadline) {
				c.dropLocked(s) // deleting while ranging is safe
				ended = append(ended, s)
			} else if next.IsZero() || deadline.Before(next) {
				next = deadline
			}
		}
	}
	c.due = time.Time{}
	if !next.IsZero() {
		c.arm(next)
	}
	if len(ended) == 0 {
		c.mu.Unlock()
		return
	}
	c.firing.Add(1)
	c.mu.Unlock()
	defer c.firing.Done()
	c.expired(ended)
}
