package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/risk/eval"
)

const evalUsage = "usage: mamoru eval [--config FILE] [--json] [--plot out.svg] [--attackers N] [--seed S] [--min-history N] FILE.csv|-"

// cmdEval implements `mamoru eval`: replay a login log in the RBA data
// set's format through the risk engine, offline, and report the
// re-authentication rate of legitimate sign-ins, the detection of attack
// rows and the simulated attackers' true-positive rates (docs/risk.md).
func cmdEval(ctx context.Context, env *environment, args []string) error {
	var c commonFlags
	fs := newFlagSet("eval", env)
	fs.StringVar(&c.config, "config", "", "YAML configuration file (its risk section is the policy evaluated)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	plot := fs.String("plot", "", "also write an SVG plot of TPR against RAR per attacker model to this file")
	attackers := fs.Int("attackers", 1000, "simulated attempts per attacker model (0: none)")
	seed := fs.Uint64("seed", 1, "seed of the user sample and the simulated attackers")
	minHistory := fs.Int("min-history", 3, "legitimate sign-ins a user needs before the simulated attackers may pick them")
	// Flags may come before or after the file.
	var files []string
	rest := args
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *attackers < 0 || *minHistory < 1 {
		return usageError{evalUsage}
	}
	cfg, err := c.load(env, nil)
	if err != nil {
		return err
	}
	policy, err := evalPolicy(cfg)
	if err != nil {
		return err
	}

	var in io.Reader = env.stdin
	name := "standard input"
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, files[0]
	}
	o := eval.Options{Config: policy, Attackers: *attackers, Seed: *seed, MinHistory: *minHistory}
	if o.Attackers == 0 {
		o.Attackers = -1 // none
	}
	start := time.Now()
	rep, err := eval.Run(ctx, bufio.NewReaderSize(in, 1<<16), o)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	elapsed := time.Since(start)
	rows := rep.Input.Rows + rep.Input.BadRows
	fmt.Fprintf(env.stderr, "# %s: %d rows in %.1f s (%.0f rows/s)\n", name, rows, elapsed.Seconds(), float64(rows)/max(elapsed.Seconds(), 1e-9))

	if *asJSON {
		err = rep.WriteJSON(env.stdout)
	} else {
		err = rep.WriteText(env.stdout)
	}
	if err != nil {
		return err
	}
	if *plot != "" {
		f, err := os.Create(*plot)
		if err != nil {
			return err
		}
		if err := rep.WritePlot(f, "mamoru eval: "+name); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// evalPolicy is the risk policy the evaluation uses: the configuration's
// risk section (risk.enabled does not matter: the policy is evaluated as
// if it were on).
func evalPolicy(cfg Config) (risk.Config, error) {
	p, err := cfg.Risk.policy()
	if err != nil {
		return p, fmt.Errorf("risk: %w", err)
	}
	return p, nil
}
