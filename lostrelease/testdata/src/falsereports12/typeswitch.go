package falsereports12

import (
	"context"
)

// Not reported: a type switch on the error; the default case, where the
// error is not nil, has no slot to give back.
func (h *handler) typeSwitched(ctx context.Context) error {
	_, rel, err := h.l.Acquire(ctx, "acct", 4)
	switch err.(type) {
	case nil:
		defer rel()
	default:
		return err
	}
	return nil
}
