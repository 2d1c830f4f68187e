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

// httpCode maps a status to the code of the answer.
func (s status) httpCode() int { // want httpCode:"isPredicate maps:200=0,429=1,502=!0\\|1"
	switch s {
	case statusOK:
		return http.StatusOK
	case statusFull:
		return http.StatusTooManyRequests
	}
	return http.StatusBadGateway
}

func handleCode(w http.ResponseWriter, r *http.Request) {
	rel, st := acquireAccountSlot(r.Context(), limiter, "a")
	if st.httpCode() != http.StatusOK {
		http.Error(w, "refused", st.httpCode())
		return
	}
	defer rel()
	_ = step()
}

func handleCodeCopy(w http.ResponseWriter, r *http.Request) {
	rel, st := acquireAccountSlot(r.Context(), limiter, "a")
	if code := st.httpCode(); code >= 400 {
		http.Error(w, "refused", code)
		return
	}
	defer rel()
	_ = step()
}
