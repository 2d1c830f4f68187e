package redisslot

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// AdoptHash is the adopt script's hash, for a proxy that picks out its calls.
var AdoptHash = adoptScript.Hash()

// LoadAdopt loads the adopt script into c's Redis.
func LoadAdopt(ctx context.Context, c redis.Scripter) error { return adoptScript.Load(ctx, c).Err() }
