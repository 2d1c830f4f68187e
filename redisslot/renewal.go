package redisslot

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// A renewal is one call of the renewal (or adopt) script and its slots.
type renewal struct {
	call  call
	slots []*holding
}

// renewalsOf groups the slots of clock that are fallback slots, or not, into
// calls of up to batchSize slots, as many keys a call as bucketOf allows,
// to be sent. It marks the fallback slots offered: the calls are to be sent. An
// adoption names each key's tombstones after its slot set.
func renewalsOf(clock *leaseClock, grouping int, leaseArg any, fallback bool) []renewal {
	open := make(map[string]*renewalDraft)
	var done []*renewalDraft
	clock.each(func(hk *heldKey) {
		bucket := bucketOf(grouping, hk.ref.rkey())
		for _, s := range hk.slots {
			if s.fallback != fallback {
				continue
			}
			if fallback {
				s.offered = true
			}
			b := open[bucket]
			if b == nil {
				b = &renewalDraft{}
				open[bucket] = b
			}
			if b.add(hk, s, fallback) == batchSize {
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
		renewals[i] = b.renewal(script, leaseArg)
	}
	return renewals
}

// A renewalDraft is a renewal call being put together, key by key.
type renewalDraft struct {
	keys   []string
	last   string // the slot set of the last key
	counts []int
	slots  []*holding
}

// add puts s, a slot of hk, in the call, and names its tombstones too in
// an adoption; it returns the call's slots.
func (b *renewalDraft) add(hk *heldKey, s *holding, adoption bool) int {
	if len(b.counts) == 0 || b.last != hk.ref.rkey() {
		b.keys, b.last = append(b.keys, hk.ref.rkey()), hk.ref.rkey()
		if adoption {
			b.keys = append(b.keys, hk.ref.names[3])
		}
		b.counts = append(b.counts, 0)
	}
	b.counts[len(b.counts)-1]++
	b.slots = append(b.slots, s)
	return len(b.slots)
}

// renewal returns the call of script that the draft makes.
func (b *renewalDraft) renewal(script *redis.Script, leaseArg any) renewal {
	args := make([]any, 0, 1+len(b.counts)+len(b.slots))
	args = append(args, leaseArg)
	for _, n := range b.counts {
		args = append(args, n)
	}
	for _, s := range b.slots {
		args = append(args, s.member)
	}
	return renewal{call{script: script, keys: b.keys, args: args}, b.slots}
}

// confirmRenewals has clock confirm, as soon as their master has answered,
// the renewals among the calls idx that Redis answered with no member gone;
// sent at sent, renewal i in epoch epochOf(i). The round settles them all
// again (no more is confirmed) once every call of it has ended (see
// renewer.settleRenewals); confirmed only then, they would wait for the
// slowest master, up to the round's cut, Lease/3, and a forget in that
// wait would void them (see leaseClock.renewed).
func confirmRenewals(clock *leaseClock, renewals []renewal, idx []int, cmds []*redis.Cmd, sent time.Time, epochOf func(i int) uint64) {
	for _, i := range idx {
		if i >= len(renewals) {
			continue
		}
		if gone, err := cmds[i].StringSlice(); err == nil && len(gone) == 0 {
			clock.renewed(renewals[i].slots, nil, sent, epochOf(i))
		}
	}
}
