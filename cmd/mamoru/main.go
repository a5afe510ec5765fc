// Command mamoru is the mamoru identity server and its operator tools.
//
//	mamoru serve [--config FILE] [--dev] [--listen ADDR] [--db PATH|URL] [--migrate]
//	mamoru migrate [--config FILE] [--db PATH|URL]
//	mamoru user create|show|list|lock|unlock|require-reset|import ...
//	mamoru outbox list [--parked] [--channel email|sms|webhook] [--limit N]
//	mamoru config check [--config FILE]
//	mamoru geoip lookup [--city-db PATH] [--asn-db PATH] [--json] IP [IP...]
//	mamoru eval [--config FILE] [--json] [--plot out.svg] [--attackers N] [--seed S] FILE.csv
//	mamoru breach import [--out PATH] [--min-count N] FILE|-
//	mamoru version
//
// This package is the only one that imports every adapter and wires them
// together; main only calls run, so tests run the same code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mamoru-id/mamoru/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mamoru:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `mamoru — an identity server that stops account takeover

Usage:
  mamoru serve [--config FILE] [--dev] [--listen ADDR] [--db PATH|postgres://...] [--migrate]
  mamoru migrate [--config FILE] [--db PATH|postgres://...]
  mamoru user create --email EMAIL [--language ja|en] [--verified]   (password on stdin)
  mamoru user show EMAIL|ID
  mamoru user list [--query TEXT] [--limit N]
  mamoru user lock EMAIL|ID [--restrict] [--reason TEXT]
  mamoru user unlock EMAIL|ID
  mamoru user require-reset EMAIL|ID [--reason TEXT]
  mamoru user import FILE.jsonl [--skip-existing]
  mamoru outbox list [--parked] [--channel email|sms|webhook] [--limit N]
  mamoru config check [--config FILE]
  mamoru geoip lookup [--city-db PATH] [--asn-db PATH] [--json] IP [IP...]
  mamoru eval [--config FILE] [--json] [--plot out.svg] [--attackers N] [--seed S] FILE.csv|-
  mamoru breach import [--out PATH] [--min-count N] FILE|-   (Pwned Passwords SHA-1 text, or gzipped)
  mamoru version

Every command reads --config FILE and MAMORU_* environment variables
(see docs/configuration.md).
`

// run is the whole program.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	env := &environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, env, args[1:])
	case "migrate":
		return cmdMigrate(ctx, env, args[1:])
	case "user":
		return cmdUser(ctx, env, args[1:])
	case "config":
		return cmdConfig(ctx, env, args[1:])
	case "outbox":
		return cmdOutbox(ctx, env, args[1:])
	case "geoip":
		return cmdGeoIP(ctx, env, args[1:])
	case "eval":
		return cmdEval(ctx, env, args[1:])
	case "breach":
		return cmdBreach(ctx, env, args[1:])
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "mamoru", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// environment is what every command gets from the process.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commonFlags are the flags every command that loads the configuration has.
type commonFlags struct {
	config string
	db     string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "YAML configuration file")
	fs.StringVar(&c.db, "db", "", "SQLite file, or a postgres:// URL (overrides the configuration)")
}

// load reads and validates the configuration for a command.
func (c *commonFlags) load(env *environment, adjust func(*Config)) (Config, error) {
	path := c.config
	if path == "" {
		path = env.getenv("MAMORU_CONFIG")
	}
	cfg, err := LoadConfig(path, env.getenv)
	if err != nil {
		return cfg, err
	}
	if c.db != "" {
		if isPostgresURL(c.db) {
			cfg.Database.Driver, cfg.Database.DSN = "postgres", c.db
		} else {
			cfg.Database.Driver, cfg.Database.Path = "sqlite", c.db
		}
	}
	if adjust != nil {
		adjust(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// open loads the configuration and opens its database without migrating
// it, for the operator commands; the caller closes the store.
func (c *commonFlags) open(ctx context.Context, env *environment) (Config, *sqlstore.DB, error) {
	cfg, err := c.load(env, nil)
	if err != nil {
		return cfg, nil, err
	}
	db, err := openStore(ctx, cfg.Database, false, newLogger(cfg.Log, env.stderr))
	return cfg, db, err
}

func newFlagSet(name string, env *environment) *flag.FlagSet {
	fs := flag.NewFlagSet("mamoru "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
