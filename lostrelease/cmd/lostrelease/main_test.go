package main_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// files writes a module that uses a stand-in for github.com/ctxguard/release,
// with a package slots whose Acquire returns a guard and main.go as given,
// and the other files named in more (name, text, ...), into a new
// directory, and returns the directory. Acquire is not inlined, so that the
// export data of slots, which go vet gives its importers, does not name the
// release package, as with most real helpers.
func files(t *testing.T, main string, more ...string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"go.mod": "module demo\n\ngo 1.25\n\nrequire github.com/ctxguard/release v0.0.0\n\n" +
			"replace github.com/ctxguard/release => ./release\n",
		"release/go.mod": "module github.com/ctxguard/release\n\ngo 1.25\n",
		"release/release.go": "package release\n\nimport \"context\"\n\n" +
			"func WrapOnDone(ctx context.Context, fn func()) func() { return fn }\n",
		"slots/slots.go": "package slots\n\nimport (\n\t\"context\"\n\n\t\"github.com/ctxguard/release\"\n)\n\n" +
			"//go:noinline\nfunc Acquire(ctx context.Context) (func(), error) {\n\treturn release.WrapOnDone(ctx, func() {}), nil\n}\n\n" +
			"type Result int\n\nconst (\n\tOK Result = iota\n\tFull\n)\n\n" +
			"//go:noinline\nfunc AcquireAccount(ctx context.Context, full bool) (func(), Result) {\n" +
			"\tif full {\n\t\treturn nil, Full\n\t}\n\treturn release.WrapOnDone(ctx, func() {}), OK\n}\n",
		"main.go": main,
	}
	for i := 0; i+1 < len(more); i += 2 {
		all[more[i]] = more[i+1]
	}
	for name, text := range all {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const leaky = `package main

import (
	"context"

	"demo/slots"
	"github.com/ctxguard/release"
)

func main() {
	release.WrapOnDone(context.Background(), func() {})
	_ = serve(context.Background())
}

func serve(ctx context.Context) error {
	_, err := slots.Acquire(ctx)
	return err
}
`

// leakyHandler leaks a guard from slots.Acquire in a package that does not
// import the release package itself: only the helper's fact tells.
const leakyHandler = `package handler

import (
	"context"

	"demo/slots"
)

func Serve(ctx context.Context) error {
	_, err := slots.Acquire(ctx)
	return err
}

func Account(ctx context.Context) {
	rel, st := slots.AcquireAccount(ctx, false)
	if st != slots.OK {
		return
	}
	if ctx.Err() != nil {
		return
	}
	rel()
}
`

const clean = `package main

import (
	"context"

	"demo/slots"
	"github.com/ctxguard/release"
)

func main() {
	free := release.WrapOnDone(context.Background(), func() {})
	defer free()
	_ = serve(context.Background())
}

func serve(ctx context.Context) error {
	rel, err := slots.Acquire(ctx)
	if err != nil {
		return err
	}
	defer rel()
	return nil
}

func account(ctx context.Context) {
	rel, st := slots.AcquireAccount(ctx, false)
	if st != slots.OK {
		return
	}
	rel()
}
`

// run runs name with args in dir, with env added to the environment, and
// returns its combined output and exit code.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod"), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	return "", 0
}

// TestCommand builds lostrelease and runs it standalone (through go vet,
// and in process), and as a vet tool, on a guard discarded in main and on
// one returned by a helper in another package, which the command must
// follow through its fact, and on a helper whose guard comes with a status
// of its own type: the status values in its fact must reach the caller, so
// that the branch where the status is not OK is not reported and a later
// leak is. Standalone, it must run go vet with itself as the tool and the
// same patterns, unless told to check in process, and keep vet's errors
// and exit status (see checkThroughVet).
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs go vet")
	}
	bin := filepath.Join(t.TempDir(), "lostrelease")
	if out, code := run(t, ".", nil, "go", "build", "-o", bin, "."); code != 0 {
		t.Fatalf("go build: exit %d\n%s", code, out)
	}
	msgs := []string{
		"main.go:11:2: the release function returned by WrapOnDone is discarded",
		"main.go:16:12: the release function returned by Acquire is discarded",
		"handler.go:10:12: the release function returned by Acquire is discarded",
		"handler.go:20:3: this return statement may be reached without using the release function rel defined on line 15",
	}
	path := "PATH=" + logGoCommands(t)
	vet := "vet -json -vettool=" + bin + " ./...\n"
	cases := []struct {
		name  string
		env   []string
		args  []string
		byVet bool // the command runs go vet itself
	}{
		{"standalone", []string{path}, []string{bin, "./..."}, true},
		{"standalone in process", []string{path, "LOSTRELEASE_INPROCESS=1"}, []string{bin, "./..."}, false},
		{"go vet -vettool", nil, []string{"go", "vet", "-vettool=" + bin, "./..."}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := files(t, leaky, "handler/handler.go", leakyHandler)
			out, code := run(t, dir, c.env, c.args[0], c.args[1:]...)
			for _, msg := range msgs {
				if code == 0 || !strings.Contains(out, msg) {
					t.Errorf("on discarded releases: exit %d, output:\n%s\nwant a non-zero exit and %q", code, out, msg)
				}
			}
			if c.args[0] == bin && code != 3 {
				t.Errorf("on discarded releases: exit %d; want 3", code)
			}
			if log, _ := os.ReadFile(filepath.Join(dir, "go-commands.log")); c.args[0] == bin &&
				strings.Contains(string(log), vet) != c.byVet {
				t.Errorf("the go commands run were:\n%s\nwant %q among them: %v", log, vet, c.byVet)
			}
			out, code = run(t, files(t, clean), c.env, c.args[0], c.args[1:]...)
			if code != 0 || out != "" {
				t.Errorf("on a deferred release: exit %d, output:\n%s\nwant exit 0 and no output", code, out)
			}
		})
	}
	t.Run("through go vet", func(t *testing.T) { checkThroughVet(t, bin) })
}

// checkThroughVet checks what the standalone command bin adds to go vet's
// output: one JSON object with -json, exit status 1 and go vet's errors on
// a package that does not compile, and reports sorted by position.
func checkThroughVet(t *testing.T, bin string) {
	dir := files(t, leaky, "handler/handler.go", leakyHandler)
	out, code := run(t, dir, nil, bin, "-json", "./...")
	var tree map[string]map[string][]struct{ Posn, Message string }
	if err := json.Unmarshal([]byte(out), &tree); code != 0 || err != nil {
		t.Fatalf("lostrelease -json: exit %d, %v, output:\n%s\nwant exit 0 and one JSON object", code, err, out)
	}
	if n := len(tree["demo"]["lostrelease"]); n != 2 {
		t.Errorf("lostrelease -json: %d reports in package demo; want 2:\n%s", n, out)
	}
	out, _ = run(t, dir, nil, bin, "./...")
	if i, j := strings.Index(out, "handler.go:10:12"), strings.Index(out, "handler.go:20:3"); i < 0 || j < i {
		t.Errorf("lostrelease: output:\n%s\nwant handler.go:10:12 before handler.go:20:3", out)
	}
	dir = files(t, clean, "bad/bad.go", "package bad\n\nfunc F() int { return \"x\" }\n")
	out, code = run(t, dir, nil, bin, "./...")
	if code != 1 || !strings.Contains(out, "bad.go:3") {
		t.Errorf("on a package that does not compile: exit %d, output:\n%s\nwant exit 1 and the error", code, out)
	}
}

// logGoCommands returns a PATH whose go command appends its arguments to
// go-commands.log in its working directory, then runs the real go.
func logGoCommands(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the logging go command is a shell script")
	}
	real, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"$*\" >>go-commands.log\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}
