package falsereports11

import (
	"context"
)

// The methods below take the account's slot on a timed ctx whose cancel
// they defer, use it and give it back themselves, and hand the caller the
// user's slot, taken on the parent ctx. The timed slot reaches a return
// only where it is nil, on a path that no if or switch on its call's
// status encloses, or under a condition that reads the status in another
// way. Each call on the timed ctx is reported all the same.

// Not reported: the granted account slot is released, and the user's
// handed on, under `if st == statusOK`; the last return is reached only
// when the account slot was not granted, with relA nil.
func (h *handler) grantedFirst(ctx context.Context, user string) (func(), status) { // want grantedFirst:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if st == statusOK {
		relA()
		return acquireAccountSlot(ctx, h.l, "user:"+user)
	}
	return relA, st
}

// Not reported: the status is read by the if's init statement; the
// return under `!ok` is reached only when the slot was not granted.
func (h *handler) initCheck(ctx context.Context, user string) (func(), status) { // want initCheck:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if ok := st == statusOK; !ok {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the same with the predicate's result in a bool copy.
func (h *handler) grantedCopy(ctx context.Context, user string) (func(), status) { // want grantedCopy:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	granted := st.granted()
	if !granted {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the call's results declared with var; relA is returned
// under `st != statusOK`, where it is nil.
func (h *handler) varDeclared(ctx context.Context, user string) (func(), status) { // want varDeclared:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var relA, st = acquireAccountSlot(tctx, h.l, "acct")
	if st != statusOK {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// classify maps a Limiter's error to a status.
func classify(err error) status { // want classify:"isPredicate maps:0=nil,1=!nil"
	if err != nil {
		return statusFull
	}
	return statusOK
}

// Not reported: the Limiter's error mapped to a status; relA is returned
// under `st != statusOK`, where the error was not nil and relA is nil.
func (h *handler) classified(ctx context.Context, user string) (func(), status) { // want classified:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.TryAcquire(tctx, "acct", 4)
	st := classify(err)
	if st != statusOK {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: a type switch on the error; relA is returned in the
// default case, where the error is not nil and relA is nil.
func (h *handler) typeSwitched(ctx context.Context, user string) (func(), error) { // want typeSwitched:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.TryAcquire(tctx, "acct", 4)
	switch err.(type) {
	case nil:
	default:
		return relA, err
	}
	relA()
	_, relU, err := h.l.TryAcquire(ctx, "user:"+user, 1)
	return relU, err
}

// Not reported: a granted account slot leaves the retry loop by the
// break; the return in the loop is reached only when the last account
// was not granted, with relA nil.
func (h *handler) retried(ctx context.Context, user string, accts []string) (func(), status) { // want retried:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var relA func()
	var st status
	for attempt := 0; ; attempt++ {
		relA, st = acquireAccountSlot(tctx, h.l, accts[attempt])
		if st == statusOK {
			break
		}
		if attempt == len(accts)-1 {
			return relA, st
		}
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: relA is returned only where it is nil.
func (h *handler) nilChecked(ctx context.Context, user string) (func(), status) { // want nilChecked:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, _ := acquireAccountSlot(tctx, h.l, "acct")
	if relA == nil {
		return relA, statusFull
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: relA is returned before the timed call, with nothing in
// it yet.
func (h *handler) beforeCall(ctx context.Context, user string) (func(), status) { // want beforeCall:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	var relA func()
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	if user == "" {
		return relA, statusFull
	}
	var st status
	relA, st = acquireAccountSlot(tctx, h.l, "acct")
	if st != statusOK {
		return nil, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// An accountLease holds a slot for the caller.
type accountLease struct {
	release func()
	st      status
}

// Not reported: the same as grantedFirst with the slot handed on in a
// lease: the last return is reached only when the account slot was not
// granted, with relA nil.
func (h *handler) leaseGranted(ctx context.Context, user string) *accountLease {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if st.granted() {
		relA()
		relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
		return &accountLease{release: relU, st: st}
	}
	return &accountLease{release: relA, st: st}
}
