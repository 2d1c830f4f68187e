package knownlimits2

import (
	"net/http"

	"github.com/ctxguard/release/slots"
)

// codeAfterSecondCall takes both slots, then refuses on the user's code,
// a copy taken before st was reused for the account's slot: the copy
// still holds the user's status, so relU is nil where it is not 200.
func codeAfterSecondCall(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	relU, st := acquireUserSlot(r.Context(), l, "u") // want `the release function returned by acquireUserSlot is not used on all paths`
	userCode := st.httpCode()
	relA, st := acquireAccountSlot(r.Context(), l, "a")
	if userCode != http.StatusOK {
		if st == statusOK {
			relA()
		}
		http.Error(w, "user refused", userCode)
		return // want `this return statement may be reached without using the release function relU`
	}
	defer relU()
	if st != statusOK {
		http.Error(w, "account refused", st.httpCode())
		return
	}
	defer relA()
	_ = step()
}
