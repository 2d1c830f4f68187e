package falsereports13

import (
	"context"
	"fmt"
)

// The handlers below map the Limiter's error to their own by its type. A
// Limiter's release is nil whenever its error is not; an error of any
// type a type switch names is not nil, so the slot is not held in those
// clauses.

// Not reported: the clauses name types only (no `case nil`): err is not
// nil in each, and rel is nil.
func (h *handler) typedErrors(ctx context.Context) error {
	_, rel, err := h.l.Acquire(ctx, "acct", 4)
	switch e := err.(type) {
	case timeoutError:
		return fmt.Errorf("account slot: timed out after %v", e.after)
	case *backendError:
		return fmt.Errorf("account slot: %w", e.err)
	}
	if err != nil {
		return err
	}
	defer rel()
	return h.serve()
}

// Not reported: the same with two types in one clause.
func (h *handler) typedErrorsList(ctx context.Context) error {
	_, rel, err := h.l.Acquire(ctx, "acct", 4)
	switch err.(type) {
	case timeoutError, *backendError:
		return fmt.Errorf("account slot: %w", err)
	}
	if err != nil {
		return err
	}
	defer rel()
	return h.serve()
}

// Not reported: nil shares a clause with a type the handler serves
// anyway; past that clause err is not nil, and rel is nil.
func (h *handler) nilAmongTypes(ctx context.Context) error {
	_, rel, err := h.l.Acquire(ctx, "acct", 4)
	switch err.(type) {
	case nil, degradedError:
		if rel != nil {
			defer rel()
		}
		return h.serve()
	}
	return err
}
