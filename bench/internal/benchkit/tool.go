package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// CheckTarget checks the -serve and -url flags every tool has: exactly one
// of them, and a URL on loopback. It returns the URL without a trailing
// slash and the problems found.
func CheckTarget(serve, url string) (string, []error) {
	var errs []error
	if (serve == "") == (url == "") {
		errs = append(errs, errors.New("give exactly one of -serve and -url"))
	}
	if url != "" {
		if err := CheckLoopback(url); err != nil {
			errs = append(errs, err)
		}
		url = strings.TrimRight(url, "/")
	}
	return url, errs
}

// WriteReport writes a tool's Markdown report to path, or to stdout when
// path is "", and logs where it went.
func WriteReport(path string, stdout io.Writer, report string, logf func(format string, a ...any)) error {
	if path == "" {
		_, err := io.WriteString(stdout, report)
		return err
	}
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return err
	}
	logf("wrote %s", path)
	return nil
}

// PrefixKeys returns m with prefix before every key (failure counts of
// several phases in one table).
func PrefixKeys(prefix string, m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[prefix+k] = v
	}
	return out
}

// ServerBinary returns the mamoru binary a tool's test runs against: the
// one named by the environment variable env, else cmd/mamoru built into a
// temporary directory (the test runs in bench/TOOL).
func ServerBinary(t testing.TB, env string) string {
	t.Helper()
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "mamoru")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mamoru").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/mamoru: %v\n%s", err, out)
	}
	return bin
}

// Main is the main of a tool: run with os.Args, stopped by SIGINT or
// SIGTERM, its error printed after the tool's name and exit status 1.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
