// Package benchkit holds what the load tools under bench/ share: starting
// and stopping a mamoru server binary on 127.0.0.1, reading a process's CPU
// time and peak memory from /proc, describing the machine, and the small
// helpers of their Markdown reports (percentiles, shell quoting, units).
package benchkit
