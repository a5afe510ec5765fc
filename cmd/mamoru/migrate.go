package main

import (
	"context"
	"fmt"
)

// cmdMigrate implements `mamoru migrate`: apply pending migrations.
func cmdMigrate(ctx context.Context, env *environment, args []string) error {
	var c commonFlags
	fs := newFlagSet("migrate", env)
	c.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(env, nil)
	if err != nil {
		return err
	}
	applied, err := migrateStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.stdout, "database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintln(env.stdout, "applied", name)
	}
	return nil
}
