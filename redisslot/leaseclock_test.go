package redisslot

import (
	"testing"
	"time"
)

// The clock makes a released slot's free pending before it lets go of its
// lock: stop, which takes that lock, then either returns the slot or
// finds its free pending, however a release and Close interleave.
func TestDropMakesTheFreePendingUnderTheClocksLock(t *testing.T) {
	var c *leaseClock
	pended := 0
	c = newLeaseClock(time.Hour, func([]*holding) {}, func(*holding) {
		if c.mu.TryLock() {
			c.mu.Unlock()
			t.Error("the free was made pending without the clock's lock: a stop between the two would miss it")
		}
		pended++
	})
	ref := &keyRef{key: "k", names: [4]string{"{k}"}}
	s := &holding{ref: ref, member: "m", set: time.Now()}
	if !c.hold(s) {
		t.Fatal("hold: the clock is stopped")
	}
	if held, _, offered := c.drop(s); !held || !offered {
		t.Fatalf("drop = held %v, offered %v; want both", held, offered)
	}
	if held, _, _ := c.drop(s); held {
		t.Error("a second drop of the slot found it held")
	}
	if pended != 1 {
		t.Errorf("the free was made pending %d times; want once", pended)
	}
	if left := c.stop(); len(left) != 0 {
		t.Errorf("stop returned %d slots; want none", len(left))
	}
}

// A restart or a failover may undo a renewal's writes: after forget, a
// renewal built before it confirms no lease (see renewed); one built after
// it does.
func TestForgetConfirmsNoRenewalBuiltBefore(t *testing.T) {
	const life = time.Hour
	c := newLeaseClock(life, func([]*holding) {}, func(*holding) {})
	defer c.stop()
	ref := &keyRef{key: "k", names: [4]string{"{k}"}}
	t0 := time.Now()
	s := &holding{ref: ref, member: "m", set: t0}
	if !c.hold(s) {
		t.Fatal("hold: the clock is stopped")
	}
	built := c.epochNow()
	c.forget()
	t1 := t0.Add(2 * time.Second)
	if lost := c.renewed([]*holding{s}, nil, t1, built); len(lost) != 0 {
		t.Fatalf("renewed lost %d slots; want none", len(lost))
	}
	if !s.set.Equal(t0) {
		t.Errorf("a renewal built before forget confirmed its lease (set %v after the acquire); want it not confirmed", s.set.Sub(t0))
	}
	c.renewed([]*holding{s}, nil, t1, c.epochNow())
	if !s.set.Equal(t1) {
		t.Errorf("a renewal built after forget: lease set %v after the acquire; want %v", s.set.Sub(t0), t1.Sub(t0))
	}
}
