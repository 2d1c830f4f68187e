package redisslot

import (
	"fmt"
	"strings"
)

// slotKey names the slot set of key: Prefix+"{"+key+"}". The braces are a
// Redis Cluster hash tag, so that the key's queue (see keysOf) lives in the
// same hash slot.
func (l *Limiter) slotKey(key string) string { return l.prefix + "{" + key + "}" }

// keysOf returns the keys of the scripts that touch a key's queue: the slot
// set at rkey, the queue by order of joining, and the queue by end of entry.
func keysOf(rkey string) []string {
	until := rkey + ":queue:until" // the queue's name is a prefix of it
	return []string{rkey, until[:len(rkey)+len(":queue")], until}
}

// wakeChannel names the pub/sub channel on which the frees of the slot set
// at rkey are announced. It shares the key's hash tag, so a sharded publish
// would stay on the key's shard.
func wakeChannel(rkey string) string { return rkey + ":wake" }

// checkTag reports an error when the Redis names of key would have an empty
// hash tag ("{}" first), which Redis Cluster ignores, hashing each whole
// name on its own: the slot set and its queue would then live in different
// hash slots. This happens only for a key that begins with "}" under a
// Prefix without braces, or a Prefix that holds "{}".
func (l *Limiter) checkTag(key string) error {
	name := l.slotKey(key)
	open := strings.IndexByte(name, '{')
	if name[open+1] == '}' {
		return fmt.Errorf("redisslot: key %s under prefix %q makes an empty Redis Cluster hash tag", quoteKey(key), l.prefix)
	}
	return nil
}
