package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// config is the command line, parsed and checked.
type config struct {
	serve          string // server binary to start, or ""
	url            string // base URL of a running server, or ""
	pid            int    // with -url: the server's process, for its CPU time and RSS (0: unknown)
	users          int    // legitimate users
	victims        int    // further accounts that only the attack names
	legitRate      float64
	concurrency    int     // attack connections
	attackRate     float64 // attempts per second; 0: closed loop
	ips            int     // attack source addresses
	ipv6Share      float64
	knownShare     float64 // share of attack attempts that name an existing account
	baseline       time.Duration
	duration       time.Duration // the wave
	settle         time.Duration // the wave's start-up, left out of the steady-state row
	passwords      string        // the common-password list (.txt or .txt.gz)
	logLevel       string        // MAMORU_LOG_LEVEL of a started server
	out            string
	requestTimeout time.Duration
	startTimeout   time.Duration
}

// parseConfig parses args (without the program name).
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.serve, "serve", "", "start this mamoru `binary` (as: BIN serve --listen 127.0.0.1:0 --db TMP --dev) and measure it")
	fs.StringVar(&c.url, "url", "", "measure the running server at this base `URL` (host must be 127.0.0.1); it must trust 127.0.0.1's X-Forwarded-For")
	fs.IntVar(&c.pid, "pid", 0, "with -url: the server's process ID, to read its CPU time and peak RSS")
	fs.IntVar(&c.users, "users", 50, "legitimate users (sign-up and one sign-in before the baseline)")
	fs.IntVar(&c.victims, "victims", 2000, "further accounts with random strong passwords that only the attack names")
	fs.Float64Var(&c.legitRate, "legit-rate", 10, "legitimate sign-ins per second, open loop, in the baseline and in the wave alike")
	fs.IntVar(&c.concurrency, "concurrency", 64, "attack connections (each a worker with one request in flight)")
	fs.Float64Var(&c.attackRate, "attack-rate", 0, "attack attempts per second, open loop; 0 sends as fast as the connections allow")
	fs.IntVar(&c.ips, "ips", 50000, "attack source addresses (random public IPv4 and IPv6), sent as X-Forwarded-For")
	fs.Float64Var(&c.ipv6Share, "ipv6-share", 0.1, "share of the attack addresses that are IPv6")
	fs.Float64Var(&c.knownShare, "known-share", 0.5, "share of attack attempts naming an existing account (the rest name unknown addresses)")
	fs.DurationVar(&c.baseline, "baseline", 10*time.Second, "legitimate load alone, before the wave")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "the attack wave (with the same legitimate load)")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "start of the wave left out of the steady-state figures")
	fs.StringVar(&c.passwords, "passwords", "", "common-password `list`, one a line, .gz or plain (default: breach/data/common-passwords.txt.gz of this repository)")
	fs.StringVar(&c.logLevel, "server-log-level", "warn", "MAMORU_LOG_LEVEL of the started server (info logs every request)")
	fs.StringVar(&c.out, "out", "", "write the Markdown report to this file (default standard output)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 10*time.Second, "timeout of one HTTP request")
	fs.DurationVar(&c.startTimeout, "start-timeout", 60*time.Second, "how long the started server may take to become healthy")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	c.url, errs = benchkit.CheckTarget(c.serve, c.url)
	check(c.pid >= 0, "-pid must not be negative")
	check(c.pid == 0 || c.url != "", "-pid goes with -url")
	check(c.users >= 1, "-users must be at least 1")
	check(c.victims >= 0, "-victims must not be negative")
	check(c.legitRate > 0 && c.legitRate <= 10000, "-legit-rate must be above 0 and at most 10000")
	check(c.concurrency >= 1 && c.concurrency <= 4096, "-concurrency must be 1..4096")
	check(c.attackRate >= 0, "-attack-rate must not be negative")
	check(c.ips >= 1 && c.ips <= 10_000_000, "-ips must be 1..10000000")
	check(c.ipv6Share >= 0 && c.ipv6Share <= 1, "-ipv6-share must be 0..1")
	check(c.knownShare >= 0 && c.knownShare <= 1, "-known-share must be 0..1")
	check(c.baseline > 0, "-baseline must be positive")
	check(c.duration > 0, "-duration must be positive")
	check(c.settle >= 0, "-settle must not be negative")
	check(c.requestTimeout > 0, "-request-timeout must be positive")
	if c.passwords == "" {
		p, err := findPasswordList()
		if err != nil {
			errs = append(errs, err)
		}
		c.passwords = p
	}
	return c, errors.Join(errs...)
}

// defaultPasswordList is the common-password list of package breach,
// relative to the repository root.
const defaultPasswordList = "breach/data/common-passwords.txt.gz"

// findPasswordList looks for breach/data/common-passwords.txt.gz in the
// working directory and its parents (a go:embed cannot reach outside this
// package's directory, and package breach keeps its list private).
func findPasswordList() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, defaultPasswordList)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s in the working directory or above it: run from the repository or give -passwords", defaultPasswordList)
		}
		dir = parent
	}
}

// serverEnv returns the variables a started server gets on top of this
// process's environment (so any MAMORU_* set for the tool reaches it too):
// trust 127.0.0.1's X-Forwarded-For, and the log level.
func (c *config) serverEnv() []string {
	env := []string{
		"MAMORU_TRUSTED_PROXIES=127.0.0.1/32",
		"MAMORU_PROXY_HEADER=X-Forwarded-For",
	}
	if c.logLevel != "" {
		env = append(env, "MAMORU_LOG_LEVEL="+c.logLevel)
	}
	return env
}
