package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// cmdOutbox implements `mamoru outbox list`: what the outbox holds, for
// operators — above all the parked messages and why they failed.
func cmdOutbox(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError{"usage: mamoru outbox list [--parked] [--channel email|sms|webhook] [--limit N]"}
	}
	var c commonFlags
	fs := newFlagSet("outbox list", env)
	c.register(fs)
	parked := fs.Bool("parked", false, "only messages that were given up on")
	channel := fs.String("channel", "", "only this channel: email, sms or webhook")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch mamoru.Channel(*channel) {
	case "", mamoru.ChannelEmail, mamoru.ChannelSMS, mamoru.ChannelWebhook:
	default:
		return usageError{"--channel must be email, sms or webhook"}
	}
	_, db, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []*mamoru.Message
	err = db.View(ctx, func(tx mamoru.Tx) error {
		var err error
		list, err = tx.ListMessages(ctx, mamoru.MessageFilter{Parked: *parked, Channel: mamoru.Channel(*channel), Limit: *limit})
		return err
	})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCHANNEL\tTEMPLATE\tTO\tCREATED\tATTEMPTS\tSTATE\tLAST ERROR")
	for _, m := range list {
		state := "pending"
		switch {
		case !m.SentAt.IsZero():
			state = "sent " + when(m.SentAt)
		case !m.ParkedAt.IsZero():
			state = "parked " + when(m.ParkedAt)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Channel, m.Template, notify.MaskRecipient(m),
			when(m.CreatedAt), m.Attempts, state, m.LastError)
	}
	return w.Flush()
}
