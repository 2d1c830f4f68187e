package main

import (
	"bufio"
	"os"
	"strings"
)

// mainBlocks returns the fenced Go blocks of the Markdown file path whose
// first line of code (after comments and blank lines) is "package main".
func mainBlocks(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []string
	var block []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, block = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			if isMain(block) {
				blocks = append(blocks, strings.Join(block, "\n")+"\n")
			}
		case in:
			block = append(block, line)
		}
	}
	return blocks, sc.Err()
}

// isMain reports whether the first line of code of block is "package main".
func isMain(block []string) bool {
	for _, line := range block {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return line == "package main"
	}
	return false
}
