package web

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// webauthnNode returns the node binary, or skips the test when node is
// missing; under CI=true it fails instead.
func webauthnNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed (required under CI=true)")
		}
		t.Skip("node is not installed: skipping the static/webauthn.js checks")
	}
	return node
}

func runWebAuthnNode(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, webauthnNode(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return strings.TrimSpace(stdout.String())
}

// TestWebAuthnScript checks static/webauthn.js: it parses, it is served
// as JavaScript, and, in node with a fake page, its base64url helpers,
// its credential JSON and its form wiring behave.
func TestWebAuthnScript(t *testing.T) {
	runWebAuthnNode(t, "", "--check", "static/webauthn.js")

	e := newEnv(t, false)
	rec := e.get("/static/webauthn.js")
	if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || !strings.Contains(ct, "javascript") {
		t.Errorf("/static/webauthn.js: %d %q", rec.Code, ct)
	}

	if out := runWebAuthnNode(t, webauthnHarness, "-", "static/webauthn.js"); out != "ok" {
		t.Errorf("harness: %s", out)
	}
}

// webauthnHarness runs the script in a vm context with a fake window,
// document, fetch and navigator.credentials; it prints "ok" or fails.
const webauthnHarness = `
'use strict';
const fs = require('fs');
const vm = require('vm');
const assert = require('assert/strict');
const src = fs.readFileSync(process.argv[2], 'utf8');

function field(name, value) { return {name, value, type: 'hidden'}; }

// page makes a fake document holding one form with the given attributes.
function page(dataset, fields) {
  const errorEl = {hidden: true, textContent: ''};
  const button = {disabled: false};
  const listeners = {};
  const form = {
    dataset, fields, submitted: 0, listeners,
    querySelector(sel) {
      if (sel === '[data-webauthn-error]') return errorEl;
      if (sel === 'input[name="credential"]') return fields.find((f) => f.name === 'credential') || null;
      return null;
    },
    querySelectorAll() { return [button]; },
    addEventListener(type, f) { listeners[type] = f; },
    setAttribute() {}, removeAttribute() {}, appendChild(el) { fields.push(el); },
  };
  const document = {
    readyState: 'complete',
    querySelectorAll(sel) { assert.match(sel, /data-webauthn/); return [form]; },
    createElement() { return {}; },
    addEventListener() {},
  };
  return {document, form, errorEl, button};
}

function context(p, extra) {
  const window = {location: {href: 'https://id.example.com/account/security', origin: 'https://id.example.com'}, addEventListener() {}};
  class FormData { constructor(f) { this.f = f; } *[Symbol.iterator]() { for (const x of this.f.fields) yield [x.name, x.value]; } }
  class HTMLFormElement {}
  HTMLFormElement.prototype.submit = function () { this.submitted++; };
  const ctx = Object.assign({window, document: p.document, navigator: {}, FormData, HTMLFormElement,
    URL, URLSearchParams, AbortController, DOMException, ArrayBuffer, Uint8Array, atob, btoa, console}, extra);
  Object.assign(window, extra.window || {});
  ctx.window = window;
  vm.createContext(ctx);
  vm.runInContext(src, ctx);
  return ctx;
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const bytes = (...b) => new Uint8Array(b).buffer;

async function main() {
  // Base64url.
  {
    const ctx = context(page({}, []), {});
    const w = ctx.window.mamoruWebAuthn;
    assert.deepEqual(Object.keys(ctx.window).filter((k) => k.startsWith('mamoru')), ['mamoruWebAuthn']);
    for (let n = 0; n < 70; n++) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 37 + n * 11) & 255;
      const want = b.toString('base64url');
      assert.equal(w.bufToB64url(new Uint8Array(b).buffer), want);
      assert.equal(w.bufToB64url(new Uint8Array(b)), want);
      assert.deepEqual(Buffer.from(w.b64urlToBuf(want)), b);
      assert.deepEqual(Buffer.from(w.b64urlToBuf(b.toString('base64'))), b);
    }
    const big = new Uint8Array(100000).fill(251);
    assert.equal(w.bufToB64url(big), Buffer.from(big).toString('base64url'));
    assert.equal(w.bufToB64url(new Uint8Array(bytes(0, 1, 2, 3)).subarray(1, 3)), 'AQI');
    assert.throws(() => w.b64urlToBuf('abcde'));
    assert.throws(() => w.b64urlToBuf(null), {name: 'TypeError'});

    // Credential JSON made by hand: registration and assertion.
    const reg = {
      id: 'AQID', rawId: bytes(1, 2, 3), type: 'public-key', authenticatorAttachment: 'platform',
      getClientExtensionResults: () => ({credProps: {rk: true}, prf: {results: {first: bytes(255)}}}),
      response: {clientDataJSON: bytes(123), attestationObject: bytes(4, 5),
        getTransports: () => ['internal', 'hybrid'], getAuthenticatorData: () => bytes(6),
        getPublicKey: () => null, getPublicKeyAlgorithm: () => -7},
    };
    assert.deepEqual(JSON.parse(JSON.stringify(w.toJSON(reg))), {
      id: 'AQID', rawId: 'AQID', type: 'public-key', authenticatorAttachment: 'platform',
      clientExtensionResults: {credProps: {rk: true}, prf: {results: {first: '_w'}}},
      response: {clientDataJSON: 'ew', attestationObject: 'BAU', transports: ['internal', 'hybrid'],
        authenticatorData: 'Bg', publicKeyAlgorithm: -7},
    });
    const assertion = {
      id: 'AQID', rawId: bytes(1, 2, 3), type: 'public-key', authenticatorAttachment: null,
      getClientExtensionResults: () => ({}),
      response: {clientDataJSON: bytes(123), authenticatorData: bytes(7), signature: bytes(8, 9), userHandle: null},
    };
    assert.deepEqual(JSON.parse(JSON.stringify(w.toJSON(assertion))), {
      id: 'AQID', rawId: 'AQID', type: 'public-key', clientExtensionResults: {},
      response: {clientDataJSON: 'ew', authenticatorData: 'Bw', signature: 'CAk'},
    });
    assertion.response.userHandle = bytes(10);
    assert.equal(w.toJSON(assertion).response.userHandle, 'Cg');
    // The browser's own toJSON wins; a broken one is replaced.
    assert.deepEqual(w.toJSON(Object.assign({toJSON: () => ({id: 'native', response: {}})}, assertion)), {id: 'native', response: {}});
    assert.equal(w.toJSON(Object.assign({toJSON: () => { throw new Error('x'); }}, assertion)).id, 'AQID');
  }

  // No WebAuthn: the form says so and cannot be sent.
  {
    const p = page({webauthn: 'get', optionsUrl: '/o', unsupportedText: 'unsupported'}, [field('credential', '')]);
    context(p, {});
    assert.equal(p.errorEl.hidden, false);
    assert.equal(p.errorEl.textContent, 'unsupported');
    assert.equal(p.button.disabled, true);
    let prevented = false;
    p.form.listeners.submit({preventDefault() { prevented = true; }});
    assert.ok(prevented);
  }

  // A registration: the options are fetched with the form's fields, the
  // credential's JSON is put in the form, which is sent natively.
  {
    const p = page({webauthn: 'create', optionsUrl: '/account/security/keys/options', errorText: 'error'},
      [field('csrf_token', 'tok'), field('flow_id', 'f1'), field('name', 'my key'), field('credential', 'stale')]);
    let request;
    let created;
    const fetch = async (url, init) => {
      request = {url, init};
      return {ok: true, json: async () => ({publicKey: {challenge: 'AQID', user: {id: 'BAU', name: 'a@b'},
        excludeCredentials: [{type: 'public-key', id: 'Bg'}], rp: {name: 'x'}}})};
    };
    const cred = {toJSON: () => ({id: 'new', response: {attestationObject: 'x'}})};
    const navigator = {credentials: {create: async (o) => { created = o; assert.equal(p.button.disabled, true); return cred; }}};
    const ctx = context(p, {fetch, navigator, window: {PublicKeyCredential: {}}});
    let prevented = false;
    await p.form.listeners.submit({preventDefault() { prevented = true; }});
    assert.ok(prevented);
    assert.equal(request.url, 'https://id.example.com/account/security/keys/options');
    assert.equal(request.init.method, 'POST');
    assert.equal(request.init.credentials, 'same-origin');
    assert.equal(request.init.headers['Content-Type'], 'application/x-www-form-urlencoded');
    assert.equal(request.init.headers['Accept'], 'application/json');
    assert.equal(request.init.body, 'csrf_token=tok&flow_id=f1&name=my+key');
    assert.deepEqual(Buffer.from(created.publicKey.challenge), Buffer.from([1, 2, 3]));
    assert.deepEqual(Buffer.from(created.publicKey.user.id), Buffer.from([4, 5]));
    assert.equal(created.publicKey.user.name, 'a@b');
    assert.deepEqual(Buffer.from(created.publicKey.excludeCredentials[0].id), Buffer.from([6]));
    assert.equal(p.form.fields[3].value, '{"id":"new","response":{"attestationObject":"x"}}');
    assert.equal(p.form.submitted, 1);
    assert.equal(p.errorEl.hidden, true);
  }

  // Refusals: the server's message, a cancel, an authenticator that is
  // registered already, a cross-origin options URL.
  const cases = [
    {name: 'server', fetch: {ok: false, body: {error: {code: 'flow_expired', message: 'The sign-in expired.'}}}, want: 'The sign-in expired.'},
    {name: 'server-flat', fetch: {ok: false, body: {message: 'flat'}}, want: 'flat'},
    {name: 'server-html', fetch: {ok: false, body: null}, want: 'error'},
    {name: 'ok-without-options', fetch: {ok: true, body: {}}, want: 'error'},
    {name: 'cancel', error: 'NotAllowedError', want: 'cancelled'},
    {name: 'exists', error: 'InvalidStateError', want: 'exists'},
    {name: 'other', error: 'SecurityError', want: 'error'},
    {name: 'cross-origin', url: 'https://evil.example/o', want: 'error'},
  ];
  for (const c of cases) {
    const p = page({webauthn: 'create', optionsUrl: c.url || '/o', errorText: 'error', cancelText: 'cancelled', existsText: 'exists'},
      [field('csrf_token', 'tok'), field('credential', '')]);
    const fetch = async () => {
      const f = c.fetch || {ok: true, body: {publicKey: {challenge: 'AQID', user: {id: 'BAU'}}}};
      return {ok: f.ok, json: async () => { if (!f.body) throw new SyntaxError('html'); return f.body; }};
    };
    const navigator = {credentials: {create: async () => { throw new DOMException('no', c.error); }}};
    context(p, {fetch, navigator, window: {PublicKeyCredential: {}}, console: {error() {}, warn() {}}});
    await p.form.listeners.submit({preventDefault() {}});
    assert.equal(p.errorEl.textContent, c.want, c.name);
    assert.equal(p.errorEl.hidden, false, c.name);
    assert.equal(p.button.disabled, false, c.name);
    assert.equal(p.form.submitted, 0, c.name);
  }

  // A sign-in with the browser's JSON parser, and a conditional form whose
  // autofill request gives way to the button.
  {
    const p = page({webauthn: 'get', webauthnConditional: '1', optionsUrl: '/signin/passkey/options'},
      [field('csrf_token', 'tok'), field('credential', '')]);
    let fetches = 0;
    const fetch = async () => { fetches++; return {ok: true, json: async () => ({publicKey: {challenge: 'AQID'}})}; };
    const gets = [];
    const navigator = {credentials: {get: (o) => new Promise((resolve, reject) => {
      gets.push(o);
      if (o.mediation === 'conditional') o.signal.addEventListener('abort', () => reject(new DOMException('a', 'AbortError')));
      else resolve({toJSON: () => ({id: 'k', response: {signature: 's'}})});
    })}};
    const PublicKeyCredential = {
      isConditionalMediationAvailable: async () => true,
      parseRequestOptionsFromJSON: (j) => ({parsed: j.challenge}),
    };
    context(p, {fetch, navigator, window: {PublicKeyCredential}});
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(gets.length, 1);
    assert.equal(gets[0].mediation, 'conditional');
    assert.deepEqual(gets[0].publicKey, {parsed: 'AQID'});
    await p.form.listeners.submit({preventDefault() {}});
    assert.equal(gets[0].signal.aborted, true);
    assert.equal(gets.length, 2);
    assert.equal(gets[1].mediation, undefined);
    assert.equal(fetches, 2);
    assert.equal(p.form.fields[1].value, '{"id":"k","response":{"signature":"s"}}');
    assert.equal(p.form.submitted, 1);
  }

  // The button pressed while the autofill request starts: the server gets
  // the options requests one after the other, the button's last, and the
  // autofill request asks for none once it has given way.
  for (const slow of ['availability', 'options']) {
    const p = page({webauthn: 'get', webauthnConditional: '1', optionsUrl: '/o'}, [field('credential', '')]);
    const log = [];
    let release;
    const gate = new Promise((r) => { release = r; });
    let n = 0;
    const fetch = async () => {
      const i = ++n;
      log.push('start ' + i);
      if (slow === 'options' && i === 1) await gate;
      log.push('end ' + i);
      return {ok: true, json: async () => ({publicKey: {challenge: 'AQID'}})};
    };
    const gets = [];
    const navigator = {credentials: {get: async (o) => { gets.push(o.mediation || 'modal'); return {toJSON: () => ({id: 'k', response: {}})}; }}};
    const PublicKeyCredential = {isConditionalMediationAvailable: () => (slow === 'availability' ? gate.then(() => true) : Promise.resolve(true))};
    context(p, {fetch, navigator, window: {PublicKeyCredential}});
    await tick();
    const submitted = p.form.listeners.submit({preventDefault() {}});
    await tick();
    release();
    await submitted;
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(gets, ['modal'], slow);
    assert.deepEqual(log, slow === 'options' ? ['start 1', 'end 1', 'start 2', 'end 2'] : ['start 1', 'end 1'], slow);
    assert.equal(p.form.submitted, 1, slow);
  }
  console.log('ok');
}

main().catch((e) => { console.log(e && e.stack || String(e)); process.exit(1); });
`
