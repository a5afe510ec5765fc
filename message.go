package mamoru

import (
	"context"
	"time"
)

// Channel is how a message travels.
type Channel string

// The channels.
const (
	ChannelEmail   Channel = "email"
	ChannelSMS     Channel = "sms"
	ChannelWebhook Channel = "webhook" // To names the endpoint; Text is the event payload
)

// Message is one outgoing message in the outbox. It is rendered when it is
// enqueued, in the same transaction as the change that causes it, and
// delivered later by the outbox worker.
type Message struct {
	ID        string
	AccountID string // "" when not tied to an account
	Channel   Channel
	To        string
	Template  string // stable template ID, e.g. "verify_email"; the event type for webhooks
	// OrderKey, when not empty, orders delivery: a message is not claimed
	// while an older message with the same key is neither sent nor
	// parked, so messages of one key are delivered one at a time, in
	// order (webhooks use endpoint and account).
	OrderKey      string
	Language      Language
	Subject       string
	Text          string
	HTML          string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  time.Time
	SentAt        time.Time
	ParkedAt      time.Time // gave up after too many failures
	LastError     string
}

// MessageFilter selects messages for ListMessages.
type MessageFilter struct {
	To      string  // exact recipient; "" for all
	Parked  bool    // only parked messages (operators)
	Channel Channel // only this channel; "" for all
	Limit   int     // 0 means a default of 100
}

// OutboxStore persists outgoing messages.
type OutboxStore interface {
	// EnqueueMessage inserts m; m.ID must be set.
	EnqueueMessage(ctx context.Context, m *Message) error
	// ClaimMessages returns up to limit messages that are neither sent nor
	// parked, whose NextAttemptAt is not after now and whose claim has
	// lapsed, oldest first, and sets their ClaimedUntil to until, so that
	// another worker does not take them meanwhile.
	ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*Message, error)
	// MarkMessageSent records delivery and clears the claim.
	MarkMessageSent(ctx context.Context, id string, at time.Time) error
	// MarkMessageFailed records a failed attempt: Attempts+1, LastError,
	// NextAttemptAt = next, clears the claim; parks it when park is true.
	MarkMessageFailed(ctx context.Context, id string, at, next time.Time, lastErr string, park bool) error
	// ListMessages returns messages newest first.
	ListMessages(ctx context.Context, f MessageFilter) ([]*Message, error)
	// MessageByID returns ENotFound if none.
	MessageByID(ctx context.Context, id string) (*Message, error)
}
