package main

import (
	"context"
	"fmt"
)

// cmdConfig implements `mamoru config check`.
func cmdConfig(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{"usage: mamoru config check [--config FILE]"}
	}
	var c commonFlags
	fs := newFlagSet("config check", env)
	c.register(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := c.load(env, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "configuration ok (database: %s)\n", cfg.Database.Driver)
	return nil
}
