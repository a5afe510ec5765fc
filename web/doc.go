// Package web is the HTTP face of mamoru for people and apps: the
// server-rendered pages (Japanese and English), the JSON API under /api/v1
// with its OpenAPI document, the dev outbox pages, and the health endpoints.
//
// It translates HTTP to calls of the service interfaces of package mamoru
// (AccountService, SignInService, SessionService, OutboxService) and back:
// request decoding, cookies, CSRF protection, language choice, security
// headers, error rendering and access logging. Every route is listed in
// routes.go; every user-facing word comes from the message catalog.
//
// It must not hold business rules (what makes a password acceptable, when a
// sign-in needs a challenge, how long a session lives): those belong to the
// services. It must not touch a store directly, and it must never write a
// secret (session token, flow secret, code, password, cookie) to a log.
package web
