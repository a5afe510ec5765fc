package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// issued is a token with the secrets to send to the owner.
type issued struct {
	token *mamoru.Token
	code  string
	link  string
}

// issueToken replaces any pending token of the purpose with a new one and
// returns its code and link secret. Only keyed hashes are stored. The
// token records the account's address as it is now (Token.Email) and
// purpose-specific data.
func (s *Service) issueToken(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, purpose mamoru.TokenPurpose, ttl time.Duration, data string) (*issued, error) {
	now := s.clock.Now()
	// Links about events live side by side, one per event; every other
	// purpose has one pending token at a time.
	if !multiple(purpose) {
		if err := tx.RevokeTokens(ctx, a.ID, purpose, now); err != nil {
			return nil, err
		}
	}
	t := &mamoru.Token{
		ID:        mamoru.NewID(),
		AccountID: a.ID,
		Purpose:   purpose,
		Email:     a.Email,
		Data:      data,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}
	code := newCode()
	link := mamoru.NewSecret()
	t.CodeHash = s.codeHash(t, code)
	t.LinkHash = s.linkHash(link)
	if err := tx.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	return &issued{token: t, code: code, link: link}, nil
}

// sendToken issues a token of the purpose and mails its code and its link
// (path?token=…) to the account, in the account's language.
func (s *Service) sendToken(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, purpose mamoru.TokenPurpose, ttl time.Duration, template, path string) error {
	t, err := s.issueToken(ctx, tx, a, purpose, ttl, "")
	if err != nil {
		return err
	}
	return s.mailer.Enqueue(ctx, tx, s.mail(a, template, map[string]any{
		"Code":    t.code,
		"Minutes": int(ttl.Minutes()),
		"Link":    s.mailer.Link(path, url.Values{"token": {t.link}}),
	}))
}

// mail is a message to the account's address, in its language and time
// zone.
func (s *Service) mail(a *mamoru.Account, template string, data map[string]any) notify.Mail {
	return notify.Mail{AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
		Template: template, Data: data}
}

// multiple reports whether tokens of the purpose may be pending side by
// side (one per event) rather than replacing each other.
func multiple(p mamoru.TokenPurpose) bool {
	return p == mamoru.PurposeEventFeedback || p == mamoru.PurposeRevertEmail
}

// sameAddress reports whether a token of the purpose proves something
// only while the account's address is the one it was sent to. Links that
// answer for the owner against a change ("this wasn't me", revert the
// email) must survive the change they answer.
func sameAddress(p mamoru.TokenPurpose) bool {
	return !multiple(p)
}

// newCode returns six uniformly random decimal digits.
func newCode() string {
	const limit = 4294000000 // largest multiple of 10^6 below 2^32
	for {
		n := binary.BigEndian.Uint32(mamoru.RandomBytes(4))
		if n < limit {
			return fmt.Sprintf("%06d", n%1000000)
		}
	}
}

// codeHash binds a code to its token, so equal codes of two tokens differ.
func (s *Service) codeHash(t *mamoru.Token, code string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	fmt.Fprintf(m, "code\x00%s\x00%s\x00%s", t.Purpose, t.ID, code)
	return m.Sum(nil)
}

func (s *Service) linkHash(link string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	fmt.Fprintf(m, "link\x00%s", link)
	return m.Sum(nil)
}

// usable reports whether t can still prove something for purpose at now.
func (s *Service) usable(t *mamoru.Token, purpose mamoru.TokenPurpose, now time.Time) bool {
	return t.Purpose == purpose && t.UsedAt.IsZero() && now.Before(t.ExpiresAt) && t.Attempts < s.cfg.MaxCodeTries
}

func invalidCode() error { return mamoru.Errorf(mamoru.EInvalidCode, "invalid or expired code") }

// checkCode checks a typed code against the account's active token of the
// purpose, counting a wrong try (and killing the token at the limit). It
// returns the token when the code is right. The count is committed even
// though the caller gets an error.
func (s *Service) checkCode(ctx context.Context, email, code string, purpose mamoru.TokenPurpose) (*mamoru.Account, *mamoru.Token, error) {
	return s.checkCodeOf(ctx, func(tx mamoru.Tx) (*mamoru.Account, error) { return tx.AccountByEmail(ctx, email) }, code, purpose)
}

// checkCodeOf is checkCode for the account that find returns.
func (s *Service) checkCodeOf(ctx context.Context, find func(tx mamoru.Tx) (*mamoru.Account, error), code string, purpose mamoru.TokenPurpose) (*mamoru.Account, *mamoru.Token, error) {
	if len(code) == 0 || len(code) > 16 {
		return nil, nil, invalidCode()
	}
	var a *mamoru.Account
	var tok *mamoru.Token
	var bad bool
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, tok, bad = nil, nil, false
		var err error
		if a, err = find(tx); err != nil {
			return err
		}
		now := s.clock.Now()
		if tok, err = tx.ActiveToken(ctx, a.ID, purpose, now); err != nil {
			return err
		}
		if !s.usable(tok, purpose, now) || tok.Email != a.Email {
			bad = true
			return nil
		}
		if !hmac.Equal(s.codeHash(tok, code), tok.CodeHash) {
			bad = true
			n, err := tx.AddTokenAttempt(ctx, tok.ID)
			if err == nil && n >= s.cfg.MaxCodeTries {
				err = tx.RevokeTokens(ctx, a.ID, purpose, now)
			}
			return err
		}
		return nil
	})
	if mamoru.ErrorCode(err) == mamoru.ENotFound || bad {
		return nil, nil, invalidCode()
	}
	if err != nil {
		return nil, nil, err
	}
	return a, tok, nil
}

// checkLink finds the token of a link secret if it is usable for purpose.
func (s *Service) checkLink(ctx context.Context, tx mamoru.Tx, link string, purpose mamoru.TokenPurpose) (*mamoru.Account, *mamoru.Token, error) {
	if len(link) == 0 || len(link) > 128 {
		return nil, nil, invalidCode()
	}
	tok, err := tx.TokenByLinkHash(ctx, s.linkHash(link))
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, nil, invalidCode()
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.usable(tok, purpose, s.clock.Now()) {
		return nil, nil, invalidCode()
	}
	a, err := tx.AccountByID(ctx, tok.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if sameAddress(purpose) && a.Email != tok.Email {
		// The address changed since the token was sent.
		return nil, nil, invalidCode()
	}
	return a, tok, nil
}

// use marks a token used; a token used meanwhile by a concurrent request
// is reported as an invalid code, so exactly one of them wins.
func use(ctx context.Context, tx mamoru.Tx, t *mamoru.Token, at time.Time) error {
	err := tx.UseToken(ctx, t.ID, at)
	if c := mamoru.ErrorCode(err); c == mamoru.EConflict || c == mamoru.ENotFound {
		return invalidCode()
	}
	return err
}
