package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
	"github.com/mamoru-id/mamoru/clientip"
)

// Deps are the services and settings the web server works with.
type Deps struct {
	Accounts      mamoru.AccountService
	SignIn        mamoru.SignInService
	Sessions      mamoru.SessionService
	Activity      mamoru.ActivityService
	SecureAccount mamoru.SecureAccountService
	Profile       mamoru.ProfileService
	// TwoStep manages the owner's 2-step methods and step-ups (the
	// /account/two-step and /account/step-up pages and their API); nil:
	// those pages are 404 and the API answers not_found.
	TwoStep mamoru.TwoStepService
	// JWKS serves the signing keys at /.well-known/jwks.json; without it
	// that path is 404.
	JWKS http.Handler
	// Outbox is set only in dev mode; without it the dev outbox routes
	// are not registered at all.
	Outbox mamoru.OutboxService
	// Guard is the attack-protection checkpoint, for the CAPTCHA of pages
	// and the API; nil: no CAPTCHA is ever shown.
	Guard Guard
	// Unlock serves the unlock link of lock notifications; nil: 404.
	Unlock UnlockService
	// Approvals answers sign-in approval requests from the owner's mail;
	// nil: 404. ApprovalWaiter wakes waiting browsers at once (without it
	// they learn the answer within approvalRecheck).
	Approvals      mamoru.ApprovalService
	ApprovalWaiter ApprovalWaiter
	// Metrics serves GET /metrics (Prometheus); nil: 404.
	Metrics http.Handler
	Catalog *catalog.Catalog
	Logger  *slog.Logger                    // slog.Default() when nil
	Clock   mamoru.Clock                    // mamoru.SystemClock when nil
	Ready   func(ctx context.Context) error // for /readyz (database ping); nil means always ready
	Config  Config
}

// Config holds the settings of the web server.
type Config struct {
	// BaseURL is the public base URL of the server, the only source of
	// absolute links (the OpenAPI servers entry, the trusted origin of the
	// cross-origin check). Required.
	BaseURL *url.URL
	// Dev turns on development conveniences; it does not weaken cookies.
	Dev bool
	// MaxBodyBytes limits request bodies (JSON and forms); 64 KiB when 0.
	MaxBodyBytes int64
	// PasswordMin and PasswordMax are the length limits the account
	// service enforces, for the texts of password errors.
	PasswordMin, PasswordMax int
	// Version is the server version, shown in the OpenAPI document.
	Version string
	// DeviceKey signs the device cookie (at least 32 bytes); nil turns
	// the device cookie off.
	DeviceKey []byte
	// ClientIP finds the client's address behind trusted proxies; nil
	// means the peer's address (RemoteAddr) only.
	ClientIP *clientip.Resolver
	// MetricsAllow lists the peers (direct, not forwarded) that may read
	// /metrics; empty means loopback only.
	MetricsAllow []netip.Prefix
	// RememberDays is how many days a device remembered after the second
	// step of a sign-in skips it, for the text of the "Remember this
	// device for N days" checkbox; set it from two_step.remember_for (in
	// whole days). DefaultRememberDays (30, that setting's default) when 0.
	RememberDays int
}

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Server is the HTTP handler of mamoru. Create it with NewServer.
type Server struct {
	accounts mamoru.AccountService
	signIn   mamoru.SignInService
	sessions mamoru.SessionService
	activity mamoru.ActivityService
	secure   mamoru.SecureAccountService
	profile  mamoru.ProfileService
	twoStep  mamoru.TwoStepService
	jwks     http.Handler
	outbox   mamoru.OutboxService
	guard    Guard
	unlock   UnlockService

	approvals      mamoru.ApprovalService
	approvalWaiter ApprovalWaiter
	cat            *catalog.Catalog

	metricsHandler http.Handler
	errorTexts     sync.Map // language + code → rendered error text
	log            *slog.Logger
	clock          mamoru.Clock
	ready          func(ctx context.Context) error
	cfg            Config

	mux     *http.ServeMux
	pages   map[string]*template.Template
	openapi []byte
	handler http.Handler
}

// NewServer checks d and returns the server with every route registered.
func NewServer(d Deps) (*Server, error) {
	switch {
	case d.Accounts == nil, d.SignIn == nil, d.Sessions == nil,
		d.Activity == nil, d.SecureAccount == nil, d.Profile == nil:
		return nil, errors.New("web: Accounts, SignIn, Sessions, Activity, SecureAccount and Profile are required")
	case d.Catalog == nil:
		return nil, errors.New("web: Catalog is required")
	case d.Config.BaseURL == nil || d.Config.BaseURL.Scheme == "" || d.Config.BaseURL.Host == "":
		return nil, errors.New("web: Config.BaseURL must be an absolute URL")
	}
	s := &Server{
		accounts: d.Accounts,
		signIn:   d.SignIn,
		sessions: d.Sessions,
		activity: d.Activity,
		secure:   d.SecureAccount,
		profile:  d.Profile,
		twoStep:  d.TwoStep,
		jwks:     d.JWKS,
		outbox:   d.Outbox,
		guard:    d.Guard,
		unlock:   d.Unlock,

		approvals:      d.Approvals,
		approvalWaiter: d.ApprovalWaiter,

		metricsHandler: d.Metrics,
		cat:            d.Catalog,
		log:            d.Logger,
		clock:          d.Clock,
		ready:          d.Ready,
		cfg:            d.Config,
		mux:            http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = mamoru.SystemClock{}
	}
	if s.cfg.MaxBodyBytes <= 0 {
		s.cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.cfg.RememberDays <= 0 {
		s.cfg.RememberDays = DefaultRememberDays
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.openapi, err = openAPIDocument(s.cfg); err != nil {
		return nil, err
	}
	for _, rt := range Routes() {
		if rt.Dev && s.outbox == nil {
			continue
		}
		s.mux.Handle(rt.Pattern(), s.wrap(rt))
	}

	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(s.cfg.BaseURL.Scheme + "://" + s.cfg.BaseURL.Host); err != nil {
		return nil, err
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, mamoru.Errorf(mamoru.EForbidden, "cross-origin request refused"))
	}))
	s.handler = s.outer(cop.Handler(http.HandlerFunc(s.dispatch)))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}
