// Command approval measures what sign-in approval (seed 004) costs a
// mamoru server: many sign-ins waiting at once for their owners' answers,
// each holding an open server-sent-event stream, and how fast a waiting
// client learns of an approval and gets its session. It writes a Markdown
// report.
//
// It signs up -n accounts, signs each in once from a new device (the
// server runs with new_device=approval and no_history=approval, so every
// one waits for approval), measures the server's memory, threads and open
// files, opens one event stream per waiting sign-in over its own raw
// HTTP/1.1 connection, measures again, watches the server's CPU while all
// of them wait, then approves -k of them one at a time from the owners'
// mails and times the approve click → event → signed_in. It only ever
// talks to 127.0.0.1 and stops by itself. See bench/README.md.
package main

import "github.com/mamoru-id/mamoru/bench/internal/benchkit"

func main() { benchkit.Main("approval", run) }
