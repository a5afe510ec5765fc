// Package breach tells whether a password is known to attackers, from
// three sources:
//
//   - Common: the list of the most common passwords, embedded in the
//     binary;
//   - Filter: a file of the SHA-1 hashes of Have I Been Pwned's Pwned
//     Passwords, made by Build (`mamoru breach import`) and opened,
//     memory-mapped, by Open. It is a binary fuse filter: about 9 bits
//     per hash, a lookup in well under a microsecond, no false negatives,
//     and about 1 false positive in 256 passwords that are not in it;
//   - Online: the Pwned Passwords range API, asked with k-anonymity
//     (only the first 5 hex digits of a hash leave the server), which
//     confirms a filter hit or stands in for a filter.
//
// Checker asks them in that order and says which one matched. docs/breach.md
// is the operator's guide: the download, the import, the file format, the
// figures, and what a false positive means at sign-up and at sign-in.
//
// It answers questions about a password and nothing else: it must not
// store or log passwords or their hashes, decide what a match means for a
// sign-in or a sign-up (packages password, account and signin do), or
// download the Pwned Passwords corpus (the operator does, with the
// official downloader). The only network traffic it may send is Online's
// range requests, when the caller creates an Online.
package breach
