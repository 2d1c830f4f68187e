package redisslot

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// LoadRenewScript loads the renewal script alone into c's script cache, as
// another instance's round answered NOSCRIPT does.
func LoadRenewScript(ctx context.Context, c redis.Scripter) error {
	return renewScript.Load(ctx, c).Err()
}
