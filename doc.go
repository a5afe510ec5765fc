// Package mamoru holds the domain of the mamoru identity server: accounts,
// sessions, sign-in flows, one-time tokens and outgoing messages, the store
// and service interfaces that the other packages implement or consume, and
// the Error type with its stable codes.
//
// It imports only the standard library. It must not know about SQL, HTTP,
// templates or any other adapter: those live in their own packages and
// point toward this one (see docs/architecture.md).
package mamoru
