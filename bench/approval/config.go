package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// config is the command line, parsed and checked.
type config struct {
	serve          string // server binary to start, or ""
	url            string // base URL of a running server, or ""
	pid            int    // with -url: the server's process (0: unknown)
	n              int    // sign-ins waiting at once, one stream each
	k              int    // approvals timed
	approveEvery   time.Duration
	idle           time.Duration // the waiting phase, measured with nothing else going on
	settle         time.Duration // pause before each memory reading
	prepWorkers    int
	openWorkers    int
	argonMemoryKiB uint32
	argonTime      uint32
	argonThreads   uint8
	logLevel       string
	out            string
	requestTimeout time.Duration
	startTimeout   time.Duration
}

// parseConfig parses args (without the program name).
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("approval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.serve, "serve", "", "start this mamoru `binary` (as: BIN serve --listen 127.0.0.1:0 --db TMP --dev) and measure it")
	fs.StringVar(&c.url, "url", "", "measure the running server at this base `URL` (127.0.0.1 only); it must run with --dev, MAMORU_RISK_OVERRIDES=new_device=approval,no_history=approval and trust 127.0.0.1's X-Forwarded-For")
	fs.IntVar(&c.pid, "pid", 0, "with -url: the server's process ID, to read its memory, threads, open files and CPU time")
	fs.IntVar(&c.n, "n", 10000, "sign-ins waiting for approval at once, each with its own account and event stream")
	fs.IntVar(&c.k, "k", 200, "approvals timed, one at a time, while the others wait")
	fs.DurationVar(&c.approveEvery, "approve-every", 0, "start an approval at most this often (0: each right after the last)")
	fs.DurationVar(&c.idle, "idle", 20*time.Second, "how long all streams wait with nothing else going on (the server's CPU is measured over it)")
	fs.DurationVar(&c.settle, "settle", 3*time.Second, "pause before each reading of the server's memory")
	fs.IntVar(&c.prepWorkers, "prep-concurrency", 2*runtime.NumCPU(), "sign-ups and sign-ins in flight during preparation")
	fs.IntVar(&c.openWorkers, "open-concurrency", 64, "event streams being opened at once")
	mem := fs.Uint("argon2-memory", 19456, "argon2id memory in KiB of a started server (19456 is the least it accepts)")
	tm := fs.Uint("argon2-time", 2, "argon2id passes of a started server (memory × passes must be at least 38912)")
	th := fs.Uint("argon2-threads", 1, "argon2id lanes of a started server")
	fs.StringVar(&c.logLevel, "server-log-level", "warn", "MAMORU_LOG_LEVEL of the started server")
	fs.StringVar(&c.out, "out", "", "write the Markdown report to this file (default standard output)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "timeout of one HTTP request (not of the streams)")
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
	check(c.n >= 1 && c.n <= 18000, "-n must be 1..18000 (this process holds one connection per stream)")
	check(c.k >= 1 && c.k <= c.n, "-k must be 1..n")
	check(c.approveEvery >= 0, "-approve-every must not be negative")
	check(c.idle >= 0, "-idle must not be negative")
	check(c.settle >= 0, "-settle must not be negative")
	check(c.prepWorkers >= 1 && c.prepWorkers <= 1024, "-prep-concurrency must be 1..1024")
	check(c.openWorkers >= 1 && c.openWorkers <= 1024, "-open-concurrency must be 1..1024")
	check(*th >= 1 && *th <= 255, "-argon2-threads must be 1..255")
	check(*tm >= 1 && *tm <= 64, "-argon2-time must be 1..64")
	check(*mem >= 8**th && *mem <= 4<<20, "-argon2-memory must be 8*threads..4194304 KiB")
	check(c.requestTimeout > 0, "-request-timeout must be positive")
	c.argonMemoryKiB, c.argonTime, c.argonThreads = uint32(*mem), uint32(*tm), uint8(*th)
	return c, errors.Join(errs...)
}

// overrides make every sign-in of a new device, and the first of a new
// account, wait for the owner's approval (docs/risk.md).
const overrides = "new_device=approval,no_history=approval"

// serverEnv returns the variables a started server gets on top of this
// process's environment.
func (c *config) serverEnv() []string {
	env := []string{
		"MAMORU_RISK_OVERRIDES=" + overrides,
		"MAMORU_TRUSTED_PROXIES=127.0.0.1/32",
		"MAMORU_PROXY_HEADER=X-Forwarded-For",
		"MAMORU_PASSWORD_ARGON2_MEMORY_KIB=" + strconv.FormatUint(uint64(c.argonMemoryKiB), 10),
		"MAMORU_PASSWORD_ARGON2_TIME=" + strconv.FormatUint(uint64(c.argonTime), 10),
		"MAMORU_PASSWORD_ARGON2_THREADS=" + strconv.FormatUint(uint64(c.argonThreads), 10),
	}
	if c.logLevel != "" {
		env = append(env, "MAMORU_LOG_LEVEL="+c.logLevel)
	}
	return env
}
