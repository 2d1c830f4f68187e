// Package release is a stand-in for github.com/ctxguard/release with the
// same WrapOnDone signature.
package release

import "context"

func WrapOnDone(ctx context.Context, fn func()) func() { return fn }
