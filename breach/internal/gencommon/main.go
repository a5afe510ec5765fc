// Command gencommon turns the JSON array of passwords of
// @zxcvbn-ts/language-common (src/passwords.json) into the gzipped,
// line-per-password list that package breach embeds: each entry in
// breach.CommonForm (computed here without importing breach, which embeds
// the output; breach's tests check that every line is in that form), first
// occurrence kept, upstream order. The gzip output is deterministic (no name, no time stamp), so the same input
// always gives the same bytes. It is run by breach/data/update-common.sh
// and is not part of the server.
//
// Usage: gencommon -in passwords.json -out common-passwords.txt.gz
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mamoru-id/mamoru/password"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gencommon:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gencommon", flag.ContinueOnError)
	in := fs.String("in", "", "passwords.json from the npm package")
	out := fs.String("out", "", "output .txt.gz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("-in and -out are required")
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	seen := make(map[string]bool, len(list))
	var text bytes.Buffer
	n := 0
	for _, pw := range list {
		f := strings.ToLower(password.Normalize(pw)) // breach.CommonForm; a test checks they agree
		if f == "" || seen[f] || strings.ContainsAny(f, "\r\n") {
			continue
		}
		seen[f] = true
		text.WriteString(f)
		text.WriteByte('\n')
		n++
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(text.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(*out, gz.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("entries in: %d\nentries out: %d\nsha256 %s: %x\nsha256 text: %x\n",
		len(list), n, *out, sha256.Sum256(gz.Bytes()), sha256.Sum256(text.Bytes()))
	return nil
}
