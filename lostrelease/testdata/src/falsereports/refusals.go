package falsereports

import (
	"net/http"

	"github.com/ctxguard/release/slots"
)

// admit writes the refusal, and says whether to go on.
func admit(w http.ResponseWriter, st status) bool { // want admit:"isPredicate true:0 false:!0 param:1"
	switch st {
	case statusOK:
		return true
	case statusFull:
		http.Error(w, "busy", http.StatusTooManyRequests)
	default:
		http.Error(w, "backend", http.StatusBadGateway)
	}
	return false
}

func handleAdmit(w http.ResponseWriter, r *http.Request) {
	rel, st := acquireAccountSlot(r.Context(), limiter, "a")
	if !admit(w, st) {
		return
	}
	defer rel()
	_ = step()
}

type handler struct{ l slots.Limiter }

// refused writes the refusal, and says whether it did.
func (h *handler) refused(w http.ResponseWriter, st status) bool { // want refused:"isPredicate true:!0 false:0 param:1"
	if st == statusOK {
		return false
	}
	http.Error(w, "refused", http.StatusServiceUnavailable)
	return true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, st := acquireAccountSlot(r.Context(), h.l, "a")
	if h.refused(w, st) {
		return
	}
	defer rel()
	_ = step()
}
