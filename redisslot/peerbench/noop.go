package main

import "github.com/redis/go-redis/v9"

// noop is the cheapest script call: one EVALSHA that runs no command. Two
// in a row are the floor of an acquire and a release that each take a
// round trip; a pipeline of them, the floor of a script read of many keys.
var noop = redis.NewScript(`return 1`)
