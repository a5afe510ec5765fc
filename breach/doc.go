// Package breach tells whether a password is known to attackers. For now
// it holds the list of the most common passwords (Common); the breached
// password corpus will live here too.
//
// It answers questions about a password and nothing else: it must not
// store or log passwords, decide what a match means for a sign-in or a
// sign-up (packages password, account and signin do), or fetch anything
// over the network at run time. The list is embedded in the binary.
package breach
