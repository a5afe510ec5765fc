// Package captcha tells people from scripts on the forms that attack
// protection guards (sign-in, sign-up, reset), without a third party by
// default.
//
// The default is PoW: a proof of work in the format of ALTCHA (the altcha
// widget and altcha-lib, protocol v1). The server hands out a challenge
// signed with an HMAC key; the browser searches for the number that hashes
// to it, which costs it a fraction of a second to a few seconds depending on
// the Level; the server checks the answer with two hashes and remembers it
// in mamoru.Counters so that it is used once, on every instance. The
// browser side is our own script (SolverJS), or the ALTCHA widget if an
// operator prefers it.
//
// Turnstile and HCaptcha are adapters for operators who choose Cloudflare
// Turnstile or hCaptcha instead: they check tokens with the provider's
// siteverify endpoint.
//
// All three implement Verifier and describe the page's part as a Widget.
// This package decides whether an answer is right; it does not decide when
// a CAPTCHA is required (attack protection does), render pages (package
// web does) or read configuration files (cmd/mamoru does).
package captcha
