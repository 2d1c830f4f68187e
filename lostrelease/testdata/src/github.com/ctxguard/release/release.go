// Package release is a stand-in for github.com/ctxguard/release with the
// same WrapOnDone and WrapOnDoneCause signatures.
package release

import "context"

func WrapOnDone(ctx context.Context, fn func()) func() { return fn }

func WrapOnDoneCause(ctx context.Context, fn func(cause error)) func() {
	return func() { fn(nil) }
}
