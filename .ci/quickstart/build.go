package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// build writes src as main.go of a new module in dir, resolves its
// imports as a reader's `go mod init` and `go mod tidy` would, and builds
// it. It returns the path of the program.
func build(dir, src string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "quickstart")
	for _, args := range [][]string{
		{"mod", "init", "example.com/quickstart"},
		{"mod", "tidy"},
		{"build", "-o", bin, "."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	}
	return bin, nil
}
