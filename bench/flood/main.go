// Command flood measures a mamoru server under a credential-stuffing
// flood and writes a Markdown report.
//
// From 127.0.0.1, it first sends only legitimate sign-ins at a fixed rate
// (the baseline), then the same legitimate load inside an attack wave:
// stuffing attempts as fast as -concurrency connections allow (or at
// -attack-rate), with addresses of accounts that exist mixed with unknown
// ones and passwords from the published common-password list, spread over
// many source addresses through a trusted X-Forwarded-For header. It
// reports how fast the server rejects the attack and at what CPU cost, how
// many attack attempts still reached the password hash, and how the
// legitimate users fared compared with the baseline.
//
// It only ever talks to 127.0.0.1 and stops by itself. See bench/README.md.
package main

import "github.com/mamoru-id/mamoru/bench/internal/benchkit"

func main() { benchkit.Main("flood", run) }
