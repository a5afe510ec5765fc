package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/breach"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/password"
	"github.com/mamoru-id/mamoru/sqlstore"
)

// cmdUser implements `mamoru user ...`, the operator's account tools.
func cmdUser(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: mamoru user create|show|list|lock|unlock|require-reset|import ..."}
	}
	sub, args := args[0], args[1:]
	var c commonFlags
	fs := newFlagSet("user "+sub, env)
	c.register(fs)
	var run func(ctx context.Context, db *sqlstore.DB, cfg Config) error
	switch sub {
	case "create":
		email := fs.String("email", "", "email address (required)")
		lang := fs.String("language", "en", "ja or en")
		verified := fs.Bool("verified", false, "mark the email address verified")
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			return userCreate(ctx, env, db, cfg, *email, *lang, *verified)
		}
	case "show":
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error { return userShow(ctx, env, db, fs.Arg(0)) }
	case "list":
		query := fs.String("query", "", "show only addresses containing this text")
		limit := fs.Int("limit", 100, "at most this many")
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			return userList(ctx, env, db, *query, *limit)
		}
	case "lock":
		restrict := fs.Bool("restrict", false, "restrict permanently instead of locking")
		reason := fs.String("reason", "", "reason shown to the owner, in the account's language")
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			st := mamoru.StatusLocked
			if *restrict {
				st = mamoru.StatusRestricted
			}
			return userSetStatus(ctx, env, db, cfg, fs.Arg(0), st, *reason)
		}
	case "unlock":
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			return userSetStatus(ctx, env, db, cfg, fs.Arg(0), mamoru.StatusActive, "")
		}
	case "require-reset":
		reason := fs.String("reason", "", "reason recorded with the event")
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			return userRequireReset(ctx, env, db, cfg, fs.Arg(0), *reason)
		}
	case "import":
		skip := fs.Bool("skip-existing", false, "skip addresses that already have an account instead of failing")
		run = func(ctx context.Context, db *sqlstore.DB, cfg Config) error {
			return userImport(ctx, env, db, fs.Arg(0), *skip)
		}
	default:
		return usageError{fmt.Sprintf("unknown user command %q", sub)}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	needArg := sub == "show" || sub == "lock" || sub == "unlock" || sub == "require-reset" || sub == "import"
	if needArg && fs.NArg() != 1 {
		return usageError{fmt.Sprintf("usage: mamoru user %s EMAIL|ID (or FILE for import)", sub)}
	}
	cfg, db, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	return run(ctx, db, cfg)
}

func userCreate(ctx context.Context, env *environment, db *sqlstore.DB, cfg Config, email, lang string, verified bool) error {
	addr, err := emailaddr.Normalize(email)
	if err != nil {
		return fmt.Errorf("--email: %s", mamoru.ErrorMessage(err))
	}
	language, ok := mamoru.ParseLanguage(lang)
	if !ok {
		return usageError{"--language must be ja or en"}
	}
	line, err := bufio.NewReader(io.LimitReader(env.stdin, 8192)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := cfg.Password.policy().Check(pw, breach.Common); err != nil {
		return fmt.Errorf("password (read from standard input): %s", mamoru.ErrorMessage(err))
	}
	hasher, err := cfg.Password.hasher(1)
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := time.Now()
	a := &mamoru.Account{ID: mamoru.NewID(), Email: addr, PasswordHash: hash, PasswordChangedAt: now,
		Language: language, Status: mamoru.StatusActive, CreatedAt: now, UpdatedAt: now}
	if verified {
		a.EmailVerifiedAt = now
	}
	err = db.Update(ctx, func(tx mamoru.Tx) error { return tx.CreateAccount(ctx, a) })
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return fmt.Errorf("an account with the address %s exists already", addr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created account %s <%s>\n", a.ID, a.Email)
	return nil
}

// findAccount looks an account up by ID or email address.
func findAccount(ctx context.Context, tx mamoru.Tx, key string) (*mamoru.Account, error) {
	if strings.Contains(key, "@") {
		addr, err := emailaddr.Normalize(key)
		if err != nil {
			return nil, err
		}
		key = addr
		a, err := tx.AccountByEmail(ctx, addr)
		if mamoru.ErrorCode(err) == mamoru.ENotFound {
			return nil, fmt.Errorf("no account with the address %s", key)
		}
		return a, err
	}
	a, err := tx.AccountByID(ctx, key)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, fmt.Errorf("no account with the ID %s", key)
	}
	return a, err
}

func userShow(ctx context.Context, env *environment, db *sqlstore.DB, key string) error {
	var a *mamoru.Account
	var sessions []*mamoru.Session
	err := db.View(ctx, func(tx mamoru.Tx) error {
		var err error
		if a, err = findAccount(ctx, tx, key); err != nil {
			return err
		}
		sessions, err = tx.ListActiveSessions(ctx, a.ID, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id\t%s\n", a.ID)
	fmt.Fprintf(w, "email\t%s\n", a.Email)
	fmt.Fprintf(w, "verified\t%s\n", when(a.EmailVerifiedAt))
	fmt.Fprintf(w, "status\t%s\n", a.Status)
	fmt.Fprintf(w, "language\t%s\n", a.Language)
	fmt.Fprintf(w, "created\t%s\n", when(a.CreatedAt))
	fmt.Fprintf(w, "last sign-in\t%s\n", when(a.LastSignInAt))
	fmt.Fprintf(w, "password changed\t%s\n", when(a.PasswordChangedAt))
	fmt.Fprintf(w, "password hash\t%s\n", hashScheme(a.PasswordHash))
	fmt.Fprintf(w, "sessions\t%d\n", len(sessions))
	return w.Flush()
}

func userList(ctx context.Context, env *environment, db *sqlstore.DB, query string, limit int) error {
	var list []*mamoru.Account
	err := db.View(ctx, func(tx mamoru.Tx) error {
		var err error
		list, err = tx.ListAccounts(ctx, mamoru.AccountFilter{EmailContains: strings.ToLower(query), Limit: limit})
		return err
	})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tSTATUS\tVERIFIED\tCREATED\tLAST SIGN-IN")
	for _, a := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\n", a.ID, a.Email, a.Status, a.EmailVerified(), when(a.CreatedAt), when(a.LastSignInAt))
	}
	return w.Flush()
}

// operatorServices wires the account service for operator commands: they
// record events and enqueue the owner's notifications, which the running
// server delivers.
func operatorServices(ctx context.Context, env *environment, db *sqlstore.DB, cfg Config) (*app, error) {
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + cfg.Listen
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return build(ctx, cfg, db, baseURL, newLogger(cfg.Log, env.stderr))
}

// operatorAction finds the account an operator names (email or ID) and
// wires the services to act on it; the caller closes them.
func operatorAction(ctx context.Context, env *environment, db *sqlstore.DB, cfg Config, key string) (*mamoru.Account, *app, error) {
	var a *mamoru.Account
	err := db.View(ctx, func(tx mamoru.Tx) error {
		var err error
		a, err = findAccount(ctx, tx, key)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	srv, err := operatorServices(ctx, env, db, cfg)
	if err != nil {
		return nil, nil, err
	}
	return a, srv, nil
}

// userSetStatus locks, restricts or unlocks an account. Locking and
// restricting end every session; the owner is told.
func userSetStatus(ctx context.Context, env *environment, db *sqlstore.DB, cfg Config, key string, st mamoru.AccountStatus, reason string) error {
	a, srv, err := operatorAction(ctx, env, db, cfg, key)
	if err != nil {
		return err
	}
	defer srv.Close()
	a, ended, err := srv.accounts.SetStatus(ctx, a.ID, st, reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "account %s <%s> is now %s", a.ID, a.Email, st)
	if ended > 0 {
		fmt.Fprintf(env.stdout, "; %d sessions ended", ended)
	}
	fmt.Fprintln(env.stdout)
	return nil
}

// userRequireReset makes a new password required: sessions end and the
// owner gets a code to set one.
func userRequireReset(ctx context.Context, env *environment, db *sqlstore.DB, cfg Config, key, reason string) error {
	a, srv, err := operatorAction(ctx, env, db, cfg, key)
	if err != nil {
		return err
	}
	defer srv.Close()
	ended, err := srv.accounts.RequireReset(ctx, a.ID, reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "account %s <%s> must set a new password; %d sessions ended\n", a.ID, a.Email, ended)
	return nil
}

// importRecord is one line of a `mamoru user import` file.
type importRecord struct {
	Email         string    `json:"email"`
	PasswordHash  string    `json:"password_hash"`
	Language      string    `json:"language"`
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

// userImport reads JSON lines of accounts with existing bcrypt, PBKDF2 or
// argon2id hashes. Every line is checked first and every problem reported;
// nothing is imported unless all lines are good. The import is one
// transaction.
func userImport(ctx context.Context, env *environment, db *sqlstore.DB, path string, skipExisting bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var accounts []*mamoru.Account
	var problems []error
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	now := time.Now()
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("line %d: %s", n, fmt.Sprintf(format, args...)))
		}
		var r importRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			bad("not a JSON object of the import format: %v", err)
			continue
		}
		addr, err := emailaddr.Normalize(r.Email)
		if err != nil {
			bad("invalid email address %q", r.Email)
			continue
		}
		if first, dup := seen[addr]; dup {
			bad("%s appears already on line %d", addr, first)
			continue
		}
		seen[addr] = n
		if err := password.Recognize(r.PasswordHash); err != nil {
			bad("password_hash: %v", err)
			continue
		}
		lang := mamoru.English
		if r.Language != "" {
			l, ok := mamoru.ParseLanguage(r.Language)
			if !ok {
				bad("language must be ja or en")
				continue
			}
			lang = l
		}
		created := r.CreatedAt
		if created.IsZero() {
			created = now
		}
		a := &mamoru.Account{ID: mamoru.NewID(), Email: addr, PasswordHash: r.PasswordHash, Language: lang,
			Status: mamoru.StatusActive, CreatedAt: created, UpdatedAt: now, PasswordChangedAt: created}
		if r.EmailVerified {
			a.EmailVerifiedAt = now
		}
		accounts = append(accounts, a)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("nothing imported; fix these lines:\n%w", errors.Join(problems...))
	}
	imported, skipped := 0, 0
	err = db.Update(ctx, func(tx mamoru.Tx) error {
		imported, skipped = 0, 0
		var exists []error
		for _, a := range accounts {
			_, err := tx.AccountByEmail(ctx, a.Email)
			if err == nil {
				if skipExisting {
					skipped++
					continue
				}
				exists = append(exists, fmt.Errorf("line %d: an account with the address %s exists already", seen[a.Email], a.Email))
				continue
			}
			if mamoru.ErrorCode(err) != mamoru.ENotFound {
				return err
			}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			imported++
		}
		if len(exists) > 0 {
			return fmt.Errorf("nothing imported (use --skip-existing to skip them):\n%w", errors.Join(exists...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "imported %d accounts, skipped %d existing\n", imported, skipped)
	return nil
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// hashScheme names the scheme of a stored hash without showing it.
func hashScheme(h string) string {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		return "argon2id"
	case strings.HasPrefix(h, "$2"):
		return "bcrypt (rehashed to argon2id at the next sign-in)"
	case strings.HasPrefix(h, "$pbkdf2"), strings.HasPrefix(h, "pbkdf2_"):
		return "PBKDF2 (rehashed to argon2id at the next sign-in)"
	}
	return "unknown"
}
