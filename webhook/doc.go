// Package webhook delivers security events to the applications that rely on
// mamoru: to configured HTTPS endpoints, signed with a shared secret
// (Mamoru-Signature, HMAC-SHA256), retried by the outbox worker, in order per
// endpoint and account, as JSON or as Security Event Tokens (RFC 8417) with
// the OpenID Shared Signals Framework (SSF 1.0, CAEP 1.0, RISC 1.0) event
// types.
//
// The pieces, and where the server wires them:
//
//   - Config (yaml) lists the endpoints; Validate reports every problem.
//   - Dispatcher.EventRecorded is called by the event recorder inside the
//     transaction that records an event: it builds (and, for SETs, signs)
//     the payload once and enqueues one outbox message per subscribed
//     endpoint, so that the event and its deliveries commit together and
//     every retry sends the same bytes.
//   - Sender delivers ChannelWebhook messages for the outbox worker.
//   - KeySet holds the SET signing key, shared by every instance through the
//     database, and serves it as a JWK Set (JWKSHandler).
//   - Verify checks a Mamoru-Signature header, for receivers.
//
// docs/webhooks.md describes the payloads, headers, ordering and retries.
package webhook
