package redisslot

import (
	"errors"
	"fmt"
	"strings"
)

// names makes the Redis names of keys under one Prefix.
//
// A key's slot set is Prefix+"{"+key+"}"; its queue is that name with
// ":queue" (by order of joining) and ":queue:until" (by end of entry)
// after it, its tombstones ":gone", and its wake-up channel ":wake". The
// braces are a Redis Cluster hash tag, so that all four live in one hash
// slot and a script may touch them together.
type names struct{ prefix string }

// A keyRef is one key as the scripts name it, made once per call and kept
// by its slot: the key as the caller named it, for errors and events, and
// the KEYS of the scripts that touch it.
type keyRef struct {
	key   string
	names [4]string // the slot set, the queue, the queue's entry ends, the tombstones
}

// keys returns the KEYS of the scripts that touch the key.
func (r *keyRef) keys() []string { return r.names[:] }

// rkey returns the name of the key's slot set.
func (r *keyRef) rkey() string { return r.names[0] }

var errEmptyKey = errors.New("redisslot: empty key")

// check says what is wrong with key, if anything, without allocating: it
// is empty, or it makes an empty hash tag ("{}" first in the slot set's
// name), which Redis Cluster ignores, hashing each name whole, so that a
// key's sets would live in different hash slots. That happens for a key
// that begins with "}" under a Prefix without braces, or a Prefix that
// holds "{}".
func (n names) check(key string) error {
	if key == "" {
		return errEmptyKey
	}
	next := key[0] // the byte after the first "{" of prefix+"{"+key+"}"
	if i := strings.IndexByte(n.prefix, '{'); i >= 0 {
		next = '{'
		if i+1 < len(n.prefix) {
			next = n.prefix[i+1]
		}
	}
	if next == '}' {
		return fmt.Errorf("redisslot: key %s under prefix %q makes an empty Redis Cluster hash tag", quoteKey(key), n.prefix)
	}
	return nil
}

// ref returns the names of key, which check has accepted.
func (n names) ref(key string) *keyRef {
	// One string holds the slot set's name and the queue's two as prefixes.
	until := n.prefix + "{" + key + "}:queue:until"
	rkey := until[:len(until)-len(":queue:until")]
	return &keyRef{key: key, names: [4]string{rkey, until[:len(rkey)+len(":queue")], until, rkey + ":gone"}}
}

// slotKey returns the name of key's slot set.
func (n names) slotKey(key string) string { return n.prefix + "{" + key + "}" }

// channelSuffix ends the name of a key's wake-up channel, after its slot
// set's name. The scripts publish on KEYS[1] .. ':wake'.
const channelSuffix = ":wake"

// wakeChannel names the pub/sub channel on which the frees of the slot set
// at rkey are announced. It shares the key's hash tag, so a sharded publish
// would stay on the key's shard.
func wakeChannel(rkey string) string { return rkey + channelSuffix }
