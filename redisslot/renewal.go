package redisslot

import "time"

// A renewal is one call of the renewal (or adopt) script and its slots.
type renewal struct {
	call     call
	slots    []*holding
	extended []*heldKey // the keys whose expiry the call extends
}

// renewalsOf groups the slots of clock that are fallback slots, or not, into
// calls of up to batchSize slots, as many keys a call as bucketOf allows,
// to be sent at sent: a renewal extends the keys that clock says it must.
// It marks the fallback slots offered: the calls are to be sent. An
// adoption names each key's tombstones after its slot set.
func renewalsOf(clock *leaseClock, grouping int, leaseArg any, fallback bool, sent time.Time) []renewal {
	type building struct {
		keys     []string
		last     string // the slot set of the last key
		counts   []int  // negated for a key extended
		slots    []*holding
		extended []*heldKey
	}
	open := make(map[string]*building)
	var done []*building
	clock.each(func(hk *heldKey) {
		bucket := bucketOf(grouping, hk.ref.rkey())
		extend := !fallback && clock.extends(hk, sent)
		for _, s := range hk.slots {
			if s.fallback != fallback {
				continue
			}
			if fallback {
				s.offered = true
			}
			b := open[bucket]
			if b == nil {
				b = &building{}
				open[bucket] = b
			}
			if len(b.counts) == 0 || b.last != hk.ref.rkey() {
				b.keys, b.last = append(b.keys, hk.ref.rkey()), hk.ref.rkey()
				if fallback {
					b.keys = append(b.keys, hk.ref.names[3])
				}
				b.counts = append(b.counts, 0)
				if extend {
					b.extended = append(b.extended, hk)
				}
			}
			if extend {
				b.counts[len(b.counts)-1]--
			} else {
				b.counts[len(b.counts)-1]++
			}
			b.slots = append(b.slots, s)
			if len(b.slots) == batchSize {
				done = append(done, b)
				delete(open, bucket)
			}
		}
	})
	for _, b := range open {
		done = append(done, b)
	}
	script := renewScript
	if fallback {
		script = adoptScript
	}
	renewals := make([]renewal, len(done))
	for i, b := range done {
		args := make([]any, 0, 1+len(b.counts)+len(b.slots))
		args = append(args, leaseArg)
		for _, n := range b.counts {
			args = append(args, n)
		}
		for _, s := range b.slots {
			args = append(args, s.member)
		}
		renewals[i] = renewal{call{script: script, keys: b.keys, args: args}, b.slots, b.extended}
	}
	return renewals
}
