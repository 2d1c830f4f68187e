// Command genmodule writes a module of gateway-shaped packages on which to
// measure lostrelease's memory, standalone and under go vet (see the
// README's Memory section). Each package has a status-typed helper over
// slots.Limiter, a handler that switches on its status in a failover loop
// and encodes JSON, three imports among the packages before it, and a test
// that expects a full key to fail. The module requires
// github.com/ctxguard/release from the repository genmodule is run in.
//
// From the lostrelease directory:
//
//	go run ./internal/genmodule -n 400 -o /tmp/gen400
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	n := flag.Int("n", 400, "number of packages")
	out := flag.String("o", "", "directory to write the module to (must not exist)")
	flag.Parse()
	if *out == "" || *n < 1 {
		log.Fatal("genmodule: -o DIR is required, and -n must be positive")
	}
	root, err := repoRoot()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(*out); err == nil {
		log.Fatalf("genmodule: %s exists", *out)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		log.Fatal(err)
	}
	files := map[string][]byte{
		"go.mod": fmt.Appendf(nil, "module gen\n\ngo 1.25\n\nrequire github.com/ctxguard/release v0.0.0\n\n"+
			"replace github.com/ctxguard/release => %s\n", root),
		"go.sum": sum,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range *n {
		name := fmt.Sprintf("p%03d", i)
		files[name+"/"+name+".go"] = source(name, imports(r, i))
		files[name+"/"+name+"_test.go"] = testSource(name)
	}
	for name, data := range files {
		if strings.HasSuffix(name, ".go") {
			if data, err = format.Source(data); err != nil {
				log.Fatalf("genmodule: %s: %v", name, err)
			}
		}
		path := filepath.Join(*out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// repoRoot returns the directory, at or above the working directory, of
// the module github.com/ctxguard/release.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte("module github.com/ctxguard/release\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("genmodule: no github.com/ctxguard/release module at or above the working directory")
		}
		dir = parent
	}
}

// imports returns up to three distinct packages before package i.
func imports(r *rand.Rand, i int) []string {
	var deps []string
	for _, j := range r.Perm(i)[:min(3, i)] {
		deps = append(deps, fmt.Sprintf("p%03d", j))
	}
	return deps
}

// handlerTemplate is the rest of a generated package, after its imports:
// its name, and the expressions that name its dependencies, fill it in.
const handlerTemplate = `// Name names the package.
func Name() string { return %q }

type status int

const (
	statusOK status = iota
	statusFull
	statusError
)

func (s status) granted() bool { return s == statusOK }

// acquireAccountSlot takes a slot of account's key: a guard only with statusOK.
func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (context.Context, func(), status) {
	sctx, rel, err := l.TryAcquire(ctx, "account:"+account, 4)
	switch {
	case err == nil:
		return sctx, rel, statusOK
	case errors.Is(err, slots.ErrFull):
		return nil, nil, statusFull
	}
	return nil, nil, statusError
}

// Handler serves a request on the first account with a free slot.
func Handler(l slots.Limiter, accounts []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, account := range accounts {
			ctx, rel, st := acquireAccountSlot(r.Context(), l, account)
			switch st {
			case statusFull:
				continue
			case statusError:
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			if !st.granted() {
				return
			}
			err := json.NewEncoder(w).Encode(map[string]any{"account": account, "via": []string{%s}, "err": ctx.Err()})
			rel()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
			return
		}
		http.Error(w, "busy", http.StatusTooManyRequests)
	})
}
`

// source returns the generated package name, importing deps.
func source(name string, deps []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Package %s is a generated gateway handler.\npackage %s\n\n", name, name)
	b.WriteString("import (\n\"context\"\n\"encoding/json\"\n\"errors\"\n\"net/http\"\n\n\"github.com/ctxguard/release/slots\"\n")
	names := []string{fmt.Sprintf("%q", name)}
	for _, d := range deps {
		fmt.Fprintf(&b, "%q\n", "gen/"+d)
		names = append(names, d+".Name()")
	}
	b.WriteString(")\n\n")
	fmt.Fprintf(&b, handlerTemplate, name, strings.Join(names, ", "))
	return b.Bytes()
}

func testSource(name string) []byte {
	return fmt.Appendf(nil, `package %s

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

func TestFullKeyFails(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	_, rel, st := acquireAccountSlot(context.Background(), l, "a")
	if st != statusOK {
		t.Fatalf("acquireAccountSlot = %%v; want statusOK", st)
	}
	defer rel()
	if _, _, err := l.TryAcquire(context.Background(), "account:a", 1); !errors.Is(err, slots.ErrFull) {
		t.Errorf("TryAcquire of a full key = %%v; want ErrFull", err)
	}
}
`, name)
}
