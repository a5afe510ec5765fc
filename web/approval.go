package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
)

// ApprovalWaiter wakes the clients that wait on a flow's approval in this
// process (signin.Waiters); other instances' answers are found by
// re-reading the flow every approvalRecheck.
type ApprovalWaiter interface {
	Wait(flowID string) (<-chan struct{}, func())
}

// Timings of the approval event stream.
const (
	approvalRecheck   = 10 * time.Second // re-read the flow (an answer on another instance)
	approvalKeepAlive = 15 * time.Second // a comment line keeps proxies from closing the stream
	approvalMaxWait   = 11 * time.Minute // a request lives 10 minutes
)

// approvalPoll is the flow the request names, with the browser's secret.
func approvalPoll(r *http.Request, flowID string) mamoru.ApprovalPoll {
	return mamoru.ApprovalPoll{FlowID: flowID, FlowSecret: cookieValue(r, FlowCookie)}
}

// apiSignInApproval is POST /api/v1/signin/approval: the waiting client's
// question. Approved: signed in (session cookie and token); waiting:
// approval_required; denied: 401 approval_denied.
func (s *Server) apiSignInApproval(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flow_id"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.Approval(r.Context(), approvalPoll(r, in.FlowID), req)
	if err != nil {
		return err
	}
	switch res.Status {
	case mamoru.SignedIn:
		keepDevice(w)
		clearCookie(w, FlowCookie)
		return writeSignedIn(w, res)
	case mamoru.ApprovalRequired:
		writeJSON(w, http.StatusOK, signInJSON{Status: string(res.Status), FlowID: res.FlowID})
	default:
		clearCookie(w, FlowCookie)
		writeJSON(w, http.StatusUnauthorized, signInJSON{Status: string(mamoru.ApprovalDenied)})
	}
	return nil
}

// apiSignInApprovalEvents is GET /api/v1/signin/approval/events?flow_id=:
// server-sent events for a waiting browser. It sends "decided" once the
// owner has answered (the client then POSTs /api/v1/signin/approval or the
// page's form), a comment line every 15 s meanwhile, and ends after 11
// minutes. It answers 400 flow_expired for a flow that is not waiting or
// not this browser's.
func (s *Server) apiSignInApprovalEvents(w http.ResponseWriter, r *http.Request) error {
	poll := approvalPoll(r, r.URL.Query().Get("flow_id"))
	decided, err := s.signIn.ApprovalDecided(r.Context(), poll)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout (60 s by default),
	// which would otherwise cut it.
	_ = rc.SetWriteDeadline(time.Now().Add(approvalMaxWait + time.Minute))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(line string) bool {
		if _, err := fmt.Fprint(w, line); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if decided {
		send("event: decided\ndata: {}\n\n")
		return nil
	}
	if !send(": waiting\n\n") {
		return nil
	}
	var wake <-chan struct{}
	if s.approvalWaiter != nil {
		ch, stop := s.approvalWaiter.Wait(poll.FlowID)
		defer stop()
		wake = ch
	}
	// Spread the re-reads of many waiting streams over the interval.
	recheck := time.NewTicker(approvalRecheck + time.Duration(mamoru.RandomBytes(1)[0])*approvalRecheck/256)
	defer recheck.Stop()
	keepAlive := time.NewTicker(approvalKeepAlive)
	defer keepAlive.Stop()
	deadline := time.NewTimer(approvalMaxWait)
	defer deadline.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-deadline.C:
			send("event: timeout\ndata: {}\n\n")
			return nil
		case <-keepAlive.C:
			if !send(": waiting\n\n") {
				return nil
			}
			continue
		case <-wake:
			wake = nil
		case <-recheck.C:
		}
		decided, err := s.signIn.ApprovalDecided(r.Context(), poll)
		if err != nil || decided {
			send("event: decided\ndata: {}\n\n")
			return nil
		}
	}
}

// postSignInApproval is POST /signin/approval: the waiting page's form
// (sent by its script when the owner has answered, or by hand without
// JavaScript).
func (s *Server) postSignInApproval(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.signin.title")
	v.Path = "/signin"
	returnTo := localReturnTo(r.PostForm.Get("return_to"), "")
	v.Form["return_to"] = returnTo
	flowID := r.PostForm.Get("flow_id")
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.Approval(r.Context(), approvalPoll(r, flowID), req)
	if mamoru.ErrorCode(err) == mamoru.EFlowExpired {
		return s.restartSignIn(w, r, v, http.StatusOK, s.errorText(v.Lang, mamoru.EFlowExpired), false)
	}
	if err != nil {
		return err
	}
	switch res.Status {
	case mamoru.SignedIn:
		keepDevice(w)
		setSessionCookie(w, res.Session, res.SessionToken)
		clearCookie(w, FlowCookie)
		return seeOther(w, r, localReturnTo(returnTo, "/account"))
	case mamoru.ApprovalRequired:
		v.Form["flow_id"] = flowID
		v.Form["status"] = string(mamoru.ApprovalRequired)
		v.Form["sent_to"] = r.PostForm.Get("sent_to")
		v.Notice = "web.approval.still_waiting"
		s.render(w, r, http.StatusOK, "signin", v)
		return nil
	}
	clearCookie(w, FlowCookie)
	return s.restartSignIn(w, r, v, http.StatusUnauthorized, v.T("web.approval.denied"), false)
}

// pageApprovalRequest is GET /signin/approval-request?token=&answer=: the
// owner's page from the mail. It shows the attempt and only two buttons
// (no password field); once answered (or expired) it shows what happened.
func (s *Server) pageApprovalRequest(w http.ResponseWriter, r *http.Request) error {
	if s.approvals == nil {
		return mamoru.Errorf(mamoru.ENotFound, "approvals are not available")
	}
	token := r.URL.Query().Get("token")
	view, err := s.approvals.ApprovalLink(r.Context(), token)
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		return s.linkInvalid(w, r)
	}
	if err != nil {
		return err
	}
	return s.renderApproval(w, r, token, r.URL.Query().Get("answer"), view, http.StatusOK)
}

// postApprovalRequest is POST /signin/approval-request: the owner's answer.
func (s *Server) postApprovalRequest(w http.ResponseWriter, r *http.Request) error {
	if s.approvals == nil {
		return mamoru.Errorf(mamoru.ENotFound, "approvals are not available")
	}
	token := r.PostForm.Get("token")
	answer := r.PostForm.Get("answer")
	if answer != "approve" && answer != "deny" {
		return mamoru.Errorf(mamoru.EInvalidRequest, "answer must be approve or deny")
	}
	view, err := s.approvals.Decide(r.Context(), token, answer == "approve", s.request(r))
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode && view != nil {
		// Spent, expired or answered meanwhile: show what happened.
		return s.renderApproval(w, r, "", "", view, http.StatusConflict)
	}
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		return s.linkInvalid(w, r)
	}
	if err != nil {
		return err
	}
	v := s.renderApprovalView(r, "", view)
	v.Form["just_answered"] = "1"
	s.render(w, r, http.StatusOK, "approval", v)
	return nil
}

// approvalPage is the data of the owner's approval page.
type approvalPage struct {
	AttemptTime, AttemptPlace, AttemptDevice, AttemptIP     string
	DecisionTime, DecisionPlace, DecisionDevice, DecisionIP string
	Approved, Denied, Expired, Open                         bool
}

func (s *Server) renderApprovalView(r *http.Request, token string, view *mamoru.ApprovalView) *view {
	v := s.newView(r, "web.approval.title")
	if _, ok := mamoru.ParseLanguage(string(view.Language)); ok {
		v.Lang = view.Language // the owner's page, in the owner's language
	}
	p := approvalPage{Expired: view.Expired, Open: view.Decision == nil && !view.Expired}
	if !view.AttemptTime.IsZero() {
		p.AttemptTime = formatTime(v.Lang, view.TimeZone, view.AttemptTime)
		p.AttemptPlace = display.PlaceApprox(s.cat, v.Lang, view.AttemptPlace)
		p.AttemptDevice = display.Device(s.cat, v.Lang, view.AttemptDevice)
		p.AttemptIP = view.AttemptIP
	}
	if d := view.Decision; d != nil {
		p.Approved, p.Denied = d.Approved, !d.Approved
		p.DecisionTime = formatTime(v.Lang, view.TimeZone, d.At)
		p.DecisionPlace = display.PlaceApprox(s.cat, v.Lang, view.DecisionPlace)
		p.DecisionDevice = display.Device(s.cat, v.Lang, view.DecisionDev)
		p.DecisionIP = d.IP
	}
	v.Data = p
	v.Form["token"] = token
	return v
}

func (s *Server) renderApproval(w http.ResponseWriter, r *http.Request, token, answer string, view *mamoru.ApprovalView, status int) error {
	v := s.renderApprovalView(r, token, view)
	v.Form["answer"] = strings.ToLower(answer)
	s.render(w, r, status, "approval", v)
	return nil
}
