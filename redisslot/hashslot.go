package redisslot

import (
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// How keys are grouped into one script call, by client type: one script
// may name many keys only where they all live on one node.
const (
	groupPerKey      = iota // any other client (a Ring, a wrapper): one key a call
	groupManyKeys           // a single node or a failover client: any keys
	groupPerHashSlot        // a Redis Cluster client: the keys of one hash slot
)

func groupingOf(c redis.UniversalClient) int {
	switch c.(type) {
	case *redis.Client:
		return groupManyKeys
	case *redis.ClusterClient:
		return groupPerHashSlot
	}
	return groupPerKey
}

// bucketOf names the calls that the slot set named name may share.
func bucketOf(grouping int, name string) string {
	switch grouping {
	case groupManyKeys:
		return ""
	case groupPerHashSlot:
		return strconv.Itoa(hashSlot(name))
	}
	return name
}

// hashSlot returns key's Redis Cluster hash slot: CRC16 (XMODEM) mod 16384
// of the key, or of its non-empty hash tag (between the first { and next }).
func hashSlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if n := strings.IndexByte(key[open+1:], '}'); n > 0 {
			key = key[open+1 : open+1+n]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
