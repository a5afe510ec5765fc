// Package browsertest runs tests in a real browser: one headless Chromium
// per test, driven over the Chrome DevTools Protocol with chromedp.
//
// A test starts the browser with New, and opens one or more isolated
// browser contexts with Browser.Context: each has its own cookies and
// storage, like a second person or a second device. The helpers of Tab
// (Go, Fill, Click, Submit, WaitVisible, Text, URL, Screenshot) fail the
// test with a screenshot named "failure" when an action goes wrong or
// takes longer than ActionTimeout, so a failing browser test always leaves
// a picture of the page behind. Tab.AddVirtualAuthenticator gives a tab a
// CDP virtual authenticator for WebAuthn (passkey) tests.
//
// Chromium comes from MAMORU_CHROMIUM, else /usr/bin/chromium, else
// chromium or chromium-browser on PATH (scripts/deps installs Debian's
// chromium). Without it the tests skip, except under CI=true, where they
// fail: a green CI must have run everything.
//
// Screenshots are full-page PNGs saved as
// $MAMORU_TEST_ARTIFACTS/<TestName>/<nn>-<name>.png, or under
// <repository>/e2e/artifacts/ when MAMORU_TEST_ARTIFACTS is not set. See
// docs/testing.md.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ActionTimeout bounds every action of a Tab: a navigation, a wait, a
// click, a screenshot.
const ActionTimeout = 15 * time.Second

// startTimeout bounds the start of the browser and of a new browser
// context. A cold Chromium on a loaded CI machine takes a few seconds.
const startTimeout = 30 * time.Second

// Flags are the Chromium command-line flags that New adds to chromedp's
// defaults. They are what a sandboxed test machine needs:
//   - headless=new: the real browser without a window (not the old,
//     separate headless shell);
//   - no-sandbox: Chromium's sandbox needs user namespaces, which
//     containers (and root) usually do not have;
//   - disable-gpu: there is no GPU;
//   - disable-quic: tests speak plain HTTP/1.1 to 127.0.0.1;
//   - no-first-run, disable-background-networking, disable-component-update,
//     disable-sync: no connections to Google's services — on a closed
//     network they are refused, and the errors slow the start;
//   - disable-dev-shm-usage: /dev/shm is tiny in containers;
//   - lang=en-US: pages (and Accept-Language) in English whatever the
//     machine's locale, so tests and screenshots are the same everywhere;
//   - window-size: the viewport of the screenshots.
var Flags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", "new"),
	chromedp.Flag("no-sandbox", true),
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("lang", "en-US"),
	chromedp.WindowSize(1280, 900),
}

// Browser is one running headless Chromium. It stops when its test ends.
type Browser struct {
	t      *testing.T
	ctx    context.Context // the browser's first tab; canceling it stops Chromium
	output *lockedBuffer   // Chromium's stdout and stderr

	mu    sync.Mutex
	shots map[string]int // screenshots taken so far, by test name
	tabs  int
}

// ExecPath returns the Chromium to run: $MAMORU_CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("MAMORU_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("MAMORU_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium: install Debian's chromium (scripts/deps) or set MAMORU_CHROMIUM")
}

// Require returns the Chromium to run, or ends the test: it skips on a
// laptop and fails under CI=true, where every test must run.
func Require(t *testing.T) string {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v, and CI=true: browser tests must run in CI", err)
		}
		t.Skipf("%v: skipping the browser test", err)
	}
	return path
}

// New starts one headless Chromium with a fresh profile in t.TempDir(). It
// stops when t ends. Without Chromium the test skips (fails under CI=true).
func New(t *testing.T) *Browser {
	t.Helper()
	path := Require(t)
	profile := t.TempDir()
	b := &Browser{t: t, output: &lockedBuffer{}, shots: map[string]int{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(b.output),
	)
	opts = append(opts, Flags...)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b.ctx = ctx
	t.Cleanup(func() {
		// A graceful close first, so that Chromium's helpers exit with it;
		// then the hard stop, which also waits for the process.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = chromedp.Cancel(ctx)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Logf("browsertest: Chromium did not close within 10s; killing it")
		}
		cancel()
		allocCancel()
		<-done
		if t.Failed() {
			t.Logf("browsertest: Chromium's output:\n%s", b.output.tail(8<<10))
		}
		removeProfile(t, profile)
	})
	start := time.Now()
	// The first run starts the process, tied to the context it gets: it
	// must be ctx itself, not one with a timeout, so the timeout is watched
	// from outside.
	if err := within(startTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("browsertest: starting %s: %v\n%s", path, err, b.output.tail(8<<10))
	}
	t.Logf("browsertest: %s started in %v", path, time.Since(start).Round(time.Millisecond))
	return b
}

// removeProfile removes the profile directory once Chromium's helper
// processes have let go of it; t.TempDir's own cleanup fails on a
// directory that a helper is still writing to.
func removeProfile(t *testing.T, dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("browsertest: removing the profile: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// within runs f, and calls stop if f has not returned after d.
func within(d time.Duration, stop func(), f func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		stop()
		<-errc
		return fmt.Errorf("timed out after %v", d)
	}
}

// Tab is one tab in a browser context of its own.
type Tab struct {
	t       *testing.T
	b       *Browser
	ctx     context.Context
	name    string
	timeout time.Duration
	authn   bool // WebAuthn.enable was sent
}

// Context opens a new, isolated browser context with one tab: separate
// cookies, storage and cache, like another person or device. A test may
// hold several at once. It closes when t ends.
func (b *Browser) Context(t *testing.T) *Tab {
	t.Helper()
	b.mu.Lock()
	b.tabs++
	name := fmt.Sprintf("tab %d", b.tabs)
	b.mu.Unlock()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		if err := within(10*time.Second, func() {}, func() error { cancel(); return nil }); err != nil {
			t.Logf("browsertest: closing %s: %v", name, err)
		}
	})
	tab := &Tab{t: t, b: b, ctx: ctx, name: name, timeout: ActionTimeout}
	// As in New, the first run (which creates the context and its tab)
	// gets ctx itself. Focus emulation: every tab behaves as the focused
	// one (WebAuthn refuses to run in a page without focus, and only one
	// window has it).
	err := within(startTimeout, cancel, func() error {
		return chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
				return err
			}),
		)
	})
	if err != nil {
		t.Fatalf("browsertest: opening %s: %v\n%s", name, err, b.output.tail(8<<10))
	}
	return tab
}

// CDP returns the chromedp context of the tab, for actions that the
// helpers do not cover. Give it a timeout of its own.
func (tab *Tab) CDP() context.Context { return tab.ctx }

// SetTimeout changes the bound of each later action of the tab (default
// ActionTimeout).
func (tab *Tab) SetTimeout(d time.Duration) { tab.timeout = d }

// run runs a with the tab's timeout. On an error it takes a "failure"
// screenshot and fails the test.
func run[T any](tab *Tab, what string, a chromedp.Action[T]) T {
	tab.t.Helper()
	return runCtx(tab, what, func(ctx context.Context) (T, error) { return chromedp.Run(ctx, a) })
}

// runCtx is run for code that needs the context itself.
func runCtx[T any](tab *Tab, what string, f func(ctx context.Context) (T, error)) T {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	v, err := f(ctx)
	if err != nil {
		tab.fail(what, err)
	}
	return v
}

// fail takes a "failure" screenshot, best effort, and fails the test.
func (tab *Tab) fail(what string, err error) {
	tab.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (after %v)", err, tab.timeout)
	}
	ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	if path, serr := tab.save(ctx, "failure"); serr != nil {
		tab.t.Logf("browsertest: %s: no failure screenshot: %v", tab.name, serr)
	} else {
		tab.t.Logf("browsertest: %s: failure screenshot %s", tab.name, path)
	}
	tab.t.Fatalf("browsertest: %s: %s (at %s): %v", tab.name, what, where, err)
}

// Go loads url and waits for its load event.
func (tab *Tab) Go(url string) {
	tab.t.Helper()
	run(tab, "go to "+url, chromedp.Navigate(url))
}

// Fill types text into the field that selector (CSS) matches, with real key
// events, after clearing it.
func (tab *Tab) Fill(selector, text string) {
	tab.t.Helper()
	sel := chromedp.CSS(selector)
	clear := fmt.Sprintf(`((el) => { el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); return true })(document.querySelector(%s))`, jsString(selector))
	run(tab, "fill "+selector, chromedp.Steps(
		chromedp.WaitVisible(sel),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](clear)(ctx, t)
			return err
		}),
		chromedp.SendKeys(sel, text),
	))
}

// Click clicks, with the mouse, the middle of the element that selector
// matches, once it is visible. It does not wait for a page that the click
// may load: use Submit for forms, or WaitVisible after it.
func (tab *Tab) Click(selector string) {
	tab.t.Helper()
	run(tab, "click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// submitJS submits the form that the element is or is in, the way a user
// does: requestSubmit fires the submit event (page scripts see it) and the
// form's validation, and a submit button is the submitter.
const submitJS = `(el) => {
	if (!el) return "no element matches";
	const form = el instanceof HTMLFormElement ? el : el.form;
	if (!form) return "the element is not in a form";
	const isSubmitter = el !== form && el.matches("button, input") && el.type === "submit";
	form.requestSubmit(isSubmitter ? el : undefined);
	return "";
}`

// Submit submits the form that selector matches (a form, a field in it or
// its submit button) like a user does, and waits for the next page to load:
// the answer to the form, after any redirects. A submit that a page script
// delays, like the proof-of-work widget's, is waited for too. It returns
// the HTTP status of the page.
func (tab *Tab) Submit(selector string) int {
	tab.t.Helper()
	run(tab, "wait for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
	js := fmt.Sprintf("(%s)(document.querySelector(%s))", submitJS, jsString(selector))
	resp := runCtx(tab, "submit "+selector, func(ctx context.Context) (*network.Response, error) {
		return chromedp.RunResponse(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			problem, err := chromedp.Evaluate[string](js)(ctx, t)
			if err == nil && problem != "" {
				err = errors.New(problem)
			}
			return err
		}))
	})
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// WaitVisible waits until the element that selector matches is visible.
func (tab *Tab) WaitVisible(selector string) {
	tab.t.Helper()
	run(tab, "wait for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
}

// Text returns the visible text (innerText) of the element that selector
// matches, once it is visible.
func (tab *Tab) Text(selector string) string {
	tab.t.Helper()
	return run(tab, "read "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// URL returns the address of the page in the tab.
func (tab *Tab) URL() string {
	tab.t.Helper()
	return run(tab, "read the URL", chromedp.Location())
}

// Eval evaluates a JavaScript expression in the page of tab, awaits it if
// it is a promise, and returns its value decoded into T (JSON rules).
func Eval[T any](tab *Tab, expression string) T {
	tab.t.Helper()
	return run(tab, "evaluate "+abbrev(expression), chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

func abbrev(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// Screenshot saves a full-page PNG of the tab as <nn>-<name>.png in the
// test's artifacts directory (see the package documentation), logs its
// path and returns it.
func (tab *Tab) Screenshot(name string) string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	path, err := tab.save(ctx, name)
	if err != nil {
		tab.fail("screenshot "+name, err)
	}
	tab.t.Logf("browsertest: %s: screenshot %s", tab.name, path)
	return path
}

// save takes a full-page screenshot and writes it as the test's next one.
func (tab *Tab) save(ctx context.Context, name string) (string, error) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	dir, err := artifactsDir(tab.t)
	if err != nil {
		return "", err
	}
	tab.b.mu.Lock()
	tab.b.shots[tab.t.Name()]++
	n := tab.b.shots[tab.t.Name()]
	tab.b.mu.Unlock()
	path := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", n, safeName(name)))
	return path, os.WriteFile(path, png, 0o644)
}

var (
	unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.=-]+`)
	cleanedMu   sync.Mutex
	cleaned     = map[string]bool{} // artifacts directories emptied by this process
)

// safeName makes s usable as one path element.
func safeName(s string) string {
	s = unsafeChars.ReplaceAllString(s, "_")
	if s == "" || s == "." || s == ".." {
		s = "_"
	}
	return s
}

// ArtifactsDir returns the directory for the test artifacts of all tests:
// $MAMORU_TEST_ARTIFACTS, else e2e/artifacts in the repository.
func ArtifactsDir() (string, error) {
	if d := os.Getenv("MAMORU_TEST_ARTIFACTS"); d != "" {
		return filepath.Abs(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "e2e", "artifacts"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: set MAMORU_TEST_ARTIFACTS")
		}
		dir = parent
	}
}

// artifactsDir returns (and creates) the directory of t's artifacts. The
// first use in a process empties it, so it holds one run's files only.
func artifactsDir(t *testing.T) (string, error) {
	root, err := ArtifactsDir()
	if err != nil {
		return "", err
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = safeName(p)
	}
	dir := filepath.Join(append([]string{root}, parts...)...)
	cleanedMu.Lock()
	defer cleanedMu.Unlock()
	if !cleaned[dir] {
		cleaned[dir] = true
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// lockedBuffer collects Chromium's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail returns the last n bytes written.
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
