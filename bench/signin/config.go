package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// config is the command line, parsed and checked.
type config struct {
	serve          string        // server binary to start, or ""
	url            string        // base URL of a running server, or ""
	users          int           // accounts created before measuring
	concurrency    []int         // levels, in order
	duration       time.Duration // per level, for sign-ins and for raw hashing each
	maxRequests    int           // per level cap on sign-ins (and raw hashes)
	argonMemoryKiB uint32
	argonTime      uint32
	argonThreads   uint8
	maxHashes      int // MAMORU_PASSWORD_MAX_CONCURRENT_HASHES; 0 leaves the server default
	out            string
	requestTimeout time.Duration
	startTimeout   time.Duration
}

// parseConfig parses args (without the program name).
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("signin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.serve, "serve", "", "start this mamoru `binary` (as: BIN serve --listen 127.0.0.1:0 --db TMP --dev) and measure it")
	fs.StringVar(&c.url, "url", "", "measure the running server at this base `URL` (host must be 127.0.0.1); its RSS is then unknown")
	fs.IntVar(&c.users, "users", 64, "accounts to create with sign-up before measuring")
	levels := fs.String("concurrency", "1,8,32", "comma-separated concurrency levels")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "time spent on each level, for sign-ins and again for raw hashing")
	fs.IntVar(&c.maxRequests, "max-requests", 100000, "at most this many sign-ins (and raw hashes) per level")
	mem := fs.Uint("argon2-memory", 19456, "argon2id memory in KiB (server env and raw measurement)")
	tm := fs.Uint("argon2-time", 2, "argon2id passes")
	th := fs.Uint("argon2-threads", 1, "argon2id lanes")
	fs.IntVar(&c.maxHashes, "max-concurrent-hashes", 0, "server's concurrent hash limit; 0 leaves its default (-serve only)")
	fs.StringVar(&c.out, "out", "", "write the Markdown report to this file (default standard output)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "timeout of one HTTP request")
	fs.DurationVar(&c.startTimeout, "start-timeout", 60*time.Second, "how long the started server may take to become healthy")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var errs []error
	c.url, errs = benchkit.CheckTarget(c.serve, c.url)
	if c.users < 1 {
		errs = append(errs, errors.New("-users must be at least 1"))
	}
	var err error
	if c.concurrency, err = parseLevels(*levels); err != nil {
		errs = append(errs, err)
	}
	if c.duration <= 0 {
		errs = append(errs, errors.New("-duration must be positive"))
	}
	if c.maxRequests < 1 {
		errs = append(errs, errors.New("-max-requests must be at least 1"))
	}
	if *th < 1 || *th > 255 {
		errs = append(errs, errors.New("-argon2-threads must be 1..255"))
	}
	if *tm < 1 || *tm > 1<<16 {
		errs = append(errs, errors.New("-argon2-time must be 1..65536"))
	}
	if *mem < 8**th || *mem > 4<<20 {
		errs = append(errs, errors.New("-argon2-memory must be 8*threads..4194304 KiB"))
	}
	if c.maxHashes < 0 {
		errs = append(errs, errors.New("-max-concurrent-hashes must not be negative"))
	}
	c.argonMemoryKiB, c.argonTime, c.argonThreads = uint32(*mem), uint32(*tm), uint8(*th)
	return c, errors.Join(errs...)
}

// parseLevels parses "1,8,32".
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("-concurrency: %q is not a level from 1 to 4096", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// serverEnv returns the MAMORU_* variables that carry the argon2id
// parameters (and the hash limit) to the server.
func (c *config) serverEnv() []string {
	env := []string{
		"MAMORU_PASSWORD_ARGON2_MEMORY_KIB=" + strconv.FormatUint(uint64(c.argonMemoryKiB), 10),
		"MAMORU_PASSWORD_ARGON2_TIME=" + strconv.FormatUint(uint64(c.argonTime), 10),
		"MAMORU_PASSWORD_ARGON2_THREADS=" + strconv.FormatUint(uint64(c.argonThreads), 10),
	}
	if c.maxHashes > 0 {
		env = append(env, "MAMORU_PASSWORD_MAX_CONCURRENT_HASHES="+strconv.Itoa(c.maxHashes))
	}
	return env
}
