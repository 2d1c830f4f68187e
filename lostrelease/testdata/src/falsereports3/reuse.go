package falsereports3

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// A handler that takes two slots names both statuses st, as the second
// `relA, st :=` reuses the first. The first status is read through a
// copy: a bool, a predicate's result or a status map's result held in a
// variable. The copy holds st's value from before the second call, and
// is read before it: the refusal of the first slot leaks nothing.

func twoSlotsBoolCopy(ctx context.Context, l slots.Limiter) error {
	relU, st := acquireUserSlot(ctx, l, "u")
	ok := st == statusOK
	if !ok {
		return errors.New("user refused")
	}
	defer relU()
	relA, st := acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		return errors.New("account refused")
	}
	defer relA()
	return step()
}

func (s status) httpCode() int { // want httpCode:"isPredicate maps:200=0,429=1,502=!0\\|1"
	switch s {
	case statusOK:
		return http.StatusOK
	case statusFull:
		return http.StatusTooManyRequests
	}
	return http.StatusBadGateway
}

func twoSlotsCode(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	relU, st := acquireUserSlot(r.Context(), l, "u")
	if code := st.httpCode(); code != http.StatusOK {
		http.Error(w, "user refused", code)
		return
	}
	defer relU()
	relA, st := acquireAccountSlot(r.Context(), l, "a")
	if code := st.httpCode(); code != http.StatusOK {
		http.Error(w, "account refused", code)
		return
	}
	defer relA()
	_ = step()
}

func admit(w http.ResponseWriter, st status) bool { // want admit:"isPredicate true:0 false:!0 param:1"
	if st != statusOK {
		http.Error(w, "busy", http.StatusTooManyRequests)
		return false
	}
	return true
}

func twoSlotsAdmitCopy(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	relU, st := acquireUserSlot(r.Context(), l, "u")
	if ok := admit(w, st); !ok {
		return
	}
	defer relU()
	relA, st := acquireAccountSlot(r.Context(), l, "a")
	if !admit(w, st) {
		return
	}
	defer relA()
	_ = step()
}

// failoverCopy declares its status outside the loop, so it is assigned
// twice; each copy is taken, and read, after the latest assignment.
func failoverCopy(ctx context.Context, l slots.Limiter, accounts []string) error {
	var rel func()
	var st status
	for _, a := range accounts {
		rel, st = acquireAccountSlot(ctx, l, a)
		ok := st == statusOK
		if !ok {
			continue
		}
		defer rel()
		return step()
	}
	return errors.New("all refused")
}
