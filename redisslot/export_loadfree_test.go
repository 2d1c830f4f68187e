package redisslot

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// LoadFreeScript loads the free script alone into c's script cache, as
// another instance's release answered NOSCRIPT does.
func LoadFreeScript(ctx context.Context, c redis.Scripter) error {
	return freeScript.Load(ctx, c).Err()
}
