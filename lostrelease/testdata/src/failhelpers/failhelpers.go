// Package failhelpers holds test helpers in a package that knows nothing
// of guards. A helper whose every path marks the test failed or ends it
// exports a fact, which its callers in other packages follow; one that
// fails only on some paths, or through an interface of its own, does not.
// A predicate on an error that returns errors.Is or errors.As of it is a
// status predicate.
package failhelpers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func IsRefused(err error) bool { // want IsRefused:"isPredicate true:!nil false:!$"
	return errors.Is(err, syscall.ECONNREFUSED)
}

func IsPathError(err error) bool { // want IsPathError:"isPredicate true:!nil false:!$"
	return errors.As(err, new(*fs.PathError))
}

func Failed(err error) bool { // want Failed:"isPredicate true:!nil false:nil$"
	return err != nil
}

var errX = errors.New("x")

// IsX compares with a variable, which may be nil: not a predicate.
func IsX(err error) bool {
	return err == errX
}

// Each of these fails on every path.

func Fatalf(t testing.TB, format string, args ...any) { // want Fatalf:"failsEveryPath"
	t.Helper()
	t.Fatalf(format, args...)
}

func Errorf(t *testing.T, format string, args ...any) { // want Errorf:"failsEveryPath"
	t.Helper()
	t.Errorf(format, args...)
}

func FailOrExit(t *testing.T, code int) { // want FailOrExit:"failsEveryPath"
	if code == 0 {
		t.Fail()
		return
	}
	fmt.Fprintln(os.Stderr, "exiting")
	os.Exit(code)
}

// ErrorTwice calls another helper of the package.
func ErrorTwice(t *testing.T, msg string) { // want ErrorTwice:"failsEveryPath"
	Errorf(t, "%s", msg)
	Errorf(t, "%s again", msg)
}

// A Harness fails its test through a field.
type Harness struct{ T testing.TB }

func (h Harness) Fail(msg string) { // want Fail:"failsEveryPath"
	h.T.Error(msg)
}

// None of these does.

// NoError fails only when err is not nil, as require.NoError does.
func NoError(t testing.TB, err error) {
	if err != nil {
		t.Fatal(err)
	}
}

// Logf logs, which fails nothing.
func Logf(t testing.TB, format string, args ...any) {
	t.Logf(format, args...)
}

// Recovered has a defer that may recover.
func Recovered(t testing.TB) {
	defer func() { _ = recover() }()
	t.Fatal("recovered")
}

// TestingT is the interface a testify-style helper takes. A call of its
// FailNow is not known to fail anything: only testing's own methods are.
type TestingT interface {
	Errorf(format string, args ...any)
	FailNow()
}

// Fail is a testify-style require.Fail.
func Fail(t TestingT, msg string) {
	t.Errorf("%s", msg)
	t.FailNow()
}
