package redisslot

import (
	"errors"
	"fmt"
	"strings"
)

// names makes the Redis names of keys under one Prefix: a key's slot set
// is Prefix+"{"+key+"}"; its queue that with ":queue" (by order of joining)
// and ":queue:until" (by end of entry), its tombstones ":gone", and its
// wake-up channel ":wake". The hash tag keeps all of them in one hash slot.
type names struct{ prefix string }

// A keyRef is a key as the caller and the scripts name it, kept by its slot.
type keyRef struct {
	key   string
	names [4]string // the slot set, the queue, the queue's entry ends, the tombstones
}

func (r *keyRef) keys() []string { return r.names[:] } // the scripts' KEYS
func (r *keyRef) rkey() string   { return r.names[0] } // the slot set's name

var errEmptyKey = errors.New("redisslot: empty key")

// check says what is wrong with key, allocating only if something is: it
// is empty, or makes an empty hash tag (a key starting with "}" under a
// Prefix without "{": "{}" first in the slot set's name), which Redis
// Cluster ignores, scattering the key's sets. A Prefix holding "{" holds
// the hash tag, and New refuses an empty one there.
func (n names) check(key string) error {
	if key == "" {
		return errEmptyKey
	}
	if key[0] == '}' && strings.IndexByte(n.prefix, '{') < 0 {
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

func (n names) slotKey(key string) string { return n.prefix + "{" + key + "}" }

// channelSuffix ends a key's wake-up channel, as the scripts publish it.
const channelSuffix = ":wake"

func wakeChannel(rkey string) string { return rkey + channelSuffix }
