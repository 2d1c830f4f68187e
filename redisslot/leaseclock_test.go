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
	if !c.hold(s, c.epochNow()) {
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

// A key is extended by a renewal sent more than a slot's life after its
// last confirmed extension (an acquire's, or a renewal's), and only then:
// within that life, the extension still covers every lease the renewal
// confirms (see extends). A fallback slot's hold extends nothing.
func TestKeyIsExtendedOnceItsLastExtensionIsALifeAgo(t *testing.T) {
	const life = time.Hour
	c := newLeaseClock(life, func([]*holding) {}, func(*holding) {})
	defer c.stop()
	ref := &keyRef{key: "k", names: [4]string{"{k}"}}
	t0 := time.Now()
	var hk *heldKey
	extends := func(at time.Time) bool {
		var ext bool
		c.each(func(k *heldKey) { hk, ext = k, c.extends(k, at) })
		return ext
	}
	if !c.hold(&holding{ref: ref, member: "fb", fallback: true}, c.epochNow()) {
		t.Fatal("hold: the clock is stopped")
	}
	if !extends(t0) {
		t.Error("a key held only by a fallback slot is not extended; want it extended: no acquire of it set its expiry")
	}
	if !c.hold(&holding{ref: ref, member: "m", set: t0}, c.epochNow()) {
		t.Fatal("hold: the clock is stopped")
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0, false}, {t0.Add(life), false}, {t0.Add(life + 1), true}} {
		if got := extends(tc.at); got != tc.want {
			t.Errorf("a renewal sent %v after the acquire extends the key: %v; want %v", tc.at.Sub(t0), got, tc.want)
		}
	}
	t1 := t0.Add(2 * life)
	c.renewed(nil, []*heldKey{hk}, nil, t1, c.epochNow())
	c.renewed(nil, []*heldKey{hk}, nil, t0, c.epochNow()) // an older call's reply, read later
	if extends(t1.Add(life)) || !extends(t1.Add(life+1)) {
		t.Errorf("after an extension sent at %v: the key is extended at a life after it: %v, and just past it: %v; want false, then true",
			t1.Sub(t0), extends(t1.Add(life)), extends(t1.Add(life+1)))
	}
}

// An adoption may write a key anew (its slots freed meanwhile), to live a
// lease from then: the next renewal must extend the key, whatever an earlier
// acquire of it made of its expiry.
func TestAdoptionHasTheNextRenewalExtendTheKey(t *testing.T) {
	const life = time.Hour
	c := newLeaseClock(life, func([]*holding) {}, func(*holding) {})
	defer c.stop()
	ref := &keyRef{key: "k", names: [4]string{"{k}"}}
	t0 := time.Now()
	fb := &holding{ref: ref, member: "fb", fallback: true}
	for _, s := range []*holding{{ref: ref, member: "m", set: t0}, fb} {
		if !c.hold(s, c.epochNow()) {
			t.Fatal("hold: the clock is stopped")
		}
	}
	if got := c.adopt([]*holding{fb}, t0.Add(time.Second)); len(got) != 1 {
		t.Fatalf("adopt returned %d slots; want the fallback slot", len(got))
	}
	var ext bool
	c.each(func(hk *heldKey) { ext = c.extends(hk, t0.Add(2*time.Second)) })
	if !ext {
		t.Error("the renewal after an adoption leaves the key's expiry alone; want it extended: the adoption may have made the key anew, to live one lease")
	}
}

// A restart or a failover may undo the writes that set a key's expiry:
// after forget, the next renewal extends every key, and a renewal built
// before it confirms neither a lease nor an extension (see renewed), nor
// does an acquire sent before it (see hold).
func TestForgetHasEveryKeyExtendedAndConfirmsNoRenewalBuiltBefore(t *testing.T) {
	const life = time.Hour
	c := newLeaseClock(life, func([]*holding) {}, func(*holding) {})
	defer c.stop()
	ref := &keyRef{key: "k", names: [4]string{"{k}"}}
	t0 := time.Now()
	s := &holding{ref: ref, member: "m", set: t0}
	if !c.hold(s, c.epochNow()) {
		t.Fatal("hold: the clock is stopped")
	}
	var hk *heldKey
	extends := func(at time.Time) bool {
		var ext bool
		c.each(func(k *heldKey) { hk, ext = k, c.extends(k, at) })
		return ext
	}
	if extends(t0.Add(time.Second)) {
		t.Fatal("a renewal a second after the acquire extends the key; want it left alone")
	}
	built := c.epochNow()
	c.forget()
	if !extends(t0.Add(time.Second)) {
		t.Error("after forget, a renewal leaves the key's expiry alone; want it extended: the restart may have undone the acquire's")
	}
	t1 := t0.Add(2 * time.Second)
	if lost := c.renewed([]*holding{s}, []*heldKey{hk}, nil, t1, built); len(lost) != 0 {
		t.Fatalf("renewed lost %d slots; want none", len(lost))
	}
	if !s.set.Equal(t0) || !extends(t1) {
		t.Errorf("a renewal built before forget confirmed its lease (set %v after the acquire) or its extension (key extended next: %v); want neither",
			s.set.Sub(t0), extends(t1))
	}
	c.renewed([]*holding{s}, []*heldKey{hk}, nil, t1, c.epochNow())
	if !s.set.Equal(t1) || extends(t1.Add(time.Second)) {
		t.Errorf("a renewal built after forget: lease set %v after the acquire, key extended next: %v; want %v, false", s.set.Sub(t0), extends(t1.Add(time.Second)), t1.Sub(t0))
	}

	// An acquire sent before a forget, held after it, extends nothing
	// either: a failover may have left its write behind.
	sent := c.epochNow()
	c.forget()
	t2 := t1.Add(time.Second)
	if !c.hold(&holding{ref: ref, member: "late", set: t2}, sent) {
		t.Fatal("hold: the clock is stopped")
	}
	if !extends(t2.Add(time.Second)) {
		t.Error("after an acquire sent before forget and held after it, a renewal leaves the key's expiry alone; want it extended")
	}
}

// The cost that extends promises: renewals at Lease/3, on time, extend a
// key in one round of three, whatever the Lease (its margin is Lease/20, at
// least 50ms, at most Lease/6).
func TestRenewalsOnTimeExtendAKeyInOneRoundOfThree(t *testing.T) {
	for _, lease := range []time.Duration{300 * time.Millisecond, 3 * time.Second, 30 * time.Second, 10 * time.Minute} {
		set := Options{Lease: lease}.settings()
		c := newLeaseClock(set.life, func([]*holding) {}, func(*holding) {})
		ref := &keyRef{key: "k", names: [4]string{"{k}"}}
		t0 := time.Now()
		if !c.hold(&holding{ref: ref, member: "m", set: t0}, c.epochNow()) {
			t.Fatal("hold: the clock is stopped")
		}
		extended := 0
		const rounds = 30
		for i := 1; i <= rounds; i++ {
			sent := t0.Add(time.Duration(i) * set.renewEvery)
			var hk *heldKey
			ext := false
			c.each(func(k *heldKey) { hk, ext = k, c.extends(k, sent) })
			if ext {
				extended++
				c.renewed(nil, []*heldKey{hk}, nil, sent, c.epochNow())
			}
		}
		c.stop()
		if extended != rounds/3 {
			t.Errorf("Lease %v: %d rounds at Lease/3 extended the key %d times; want %d, one round of three", lease, rounds, extended, rounds/3)
		}
	}
}
