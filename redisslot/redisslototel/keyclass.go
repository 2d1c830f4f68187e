package redisslototel

import (
	"strings"
	"sync"

	"github.com/ctxguard/release/redisslot"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MaxKeyClasses is the most key classes one InstrumentMetrics records; the
// classes seen after those are recorded as OtherClass.
const MaxKeyClasses = 100

// OtherClass is the class of a key that has none (no ":" under
// DefaultKeyClass, or "" from a WithKeyClass function), and of every key
// whose class came after MaxKeyClasses others.
const OtherClass = "other"

// The attribute keys.
const (
	keyClassKey = attribute.Key("redisslot.key_class")
	resultKey   = attribute.Key("redisslot.result")
	endKey      = attribute.Key("redisslot.end")
)

// DefaultKeyClass returns the part of key before its first ":", so that
// "user:42" and "user:43" are both "user"; a key with no ":", or one that
// starts with ":", has no class and is recorded as [OtherClass]. It never
// returns a whole key, so a key without a class never makes a series of
// its own.
func DefaultKeyClass(key string) string {
	class, _, found := strings.Cut(key, ":")
	if !found {
		return ""
	}
	return class
}

// A class holds the attribute options of one key class, made once, so that
// recording allocates no attribute set.
type class struct {
	class   []metric.AddOption // key_class alone
	results [redisslot.AcquireFallback + 1][]metric.RecordOption
	ends    [4][]metric.RecordOption
}

func newClass(name string) *class {
	kc := keyClassKey.String(name)
	c := &class{class: []metric.AddOption{metric.WithAttributes(kc)}}
	for i := range c.results {
		r := redisslot.AcquireResult(i).String()
		c.results[i] = []metric.RecordOption{metric.WithAttributes(kc, resultKey.String(r))}
	}
	for i := range c.ends {
		e := redisslot.SlotEnd(i).String()
		c.ends[i] = []metric.RecordOption{metric.WithAttributes(kc, endKey.String(e))}
	}
	return c
}

// result returns the options of r; a result unknown to this version counts
// as an error.
func (c *class) result(r redisslot.AcquireResult) []metric.RecordOption {
	if int(r) < len(c.results) {
		return c.results[r]
	}
	return c.results[redisslot.AcquireError]
}

// end returns the options of e; an end unknown to this version counts as
// released.
func (c *class) end(e redisslot.SlotEnd) []metric.RecordOption {
	if int(e) < len(c.ends) {
		return c.ends[e]
	}
	return c.ends[redisslot.SlotReleased]
}

// classes maps keys to their class, at most MaxKeyClasses of them plus
// OtherClass.
type classes struct {
	classOf func(string) string
	other   *class
	mu      sync.RWMutex
	byName  map[string]*class
}

func newClasses(classOf func(string) string) *classes {
	return &classes{classOf: classOf, other: newClass(OtherClass), byName: make(map[string]*class)}
}

// of returns the class of key.
func (cs *classes) of(key string) *class {
	name := cs.classOf(key)
	if name == "" || name == OtherClass {
		return cs.other
	}
	cs.mu.RLock()
	c := cs.byName[name]
	cs.mu.RUnlock()
	if c != nil {
		return c
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.byName[name]; c != nil {
		return c
	}
	if len(cs.byName) >= MaxKeyClasses {
		return cs.other
	}
	c = newClass(name)
	cs.byName[name] = c
	return c
}
