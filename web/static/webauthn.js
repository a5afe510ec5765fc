// mamoru: security keys and passkeys in plain HTML forms.
//
// A form with data-webauthn="create" (registration) or "get" (sign-in)
// runs a WebAuthn ceremony when it is submitted: it POSTs its fields (all
// but "credential", so csrf_token and flow_id go along) to its
// data-options-url, which answers {"publicKey": {...}} (the options in
// their JSON form), asks the browser for a credential, puts the
// credential's JSON into the hidden input "credential" and submits the form
// natively to its action. The server answers with a page or a redirect.
// A "get" form with data-webauthn-conditional="1" also offers passkeys in
// the autofill of inputs with autocomplete="username webauthn".
//
// Messages go to the form's [data-webauthn-error] element, from the form's
// data-unsupported-text, data-cancel-text, data-exists-text and
// data-error-text, or the options endpoint's JSON "message".
//
// Same-origin script only (the Content-Security-Policy has no inline
// script and no eval); nothing global but window.mamoruWebAuthn, for tests.
(function () {
  'use strict';

  // b64urlToBuf decodes base64url (padding optional) to an ArrayBuffer.
  function b64urlToBuf(s) {
    if (typeof s !== 'string') throw new TypeError('base64url: not a string');
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  // bufToB64url encodes an ArrayBuffer or a view as base64url without
  // padding.
  function bufToB64url(buf) {
    const bytes = buf instanceof ArrayBuffer
      ? new Uint8Array(buf)
      : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

  // jsonable turns the binary values in v (extension results) into
  // base64url, as PublicKeyCredential.toJSON does.
  function jsonable(v) {
    if (isBinary(v)) return bufToB64url(v);
    if (Array.isArray(v)) return v.map(jsonable);
    if (v && typeof v === 'object') {
      const o = {};
      for (const k of Object.keys(v)) o[k] = jsonable(v[k]);
      return o;
    }
    return v;
  }

  const call = (obj, method) => (typeof obj[method] === 'function' ? obj[method]() : undefined);

  // toJSON is the JSON of a PublicKeyCredential (RegistrationResponseJSON
  // or AuthenticationResponseJSON): its own toJSON where the browser has
  // one that works, else the same made by hand.
  function toJSON(cred) {
    if (typeof cred.toJSON === 'function') {
      try {
        const j = cred.toJSON();
        if (j && typeof j === 'object' && j.response) return j;
      } catch (e) {
        // Some authenticator extensions' credentials throw here; see below.
      }
    }
    const r = cred.response;
    const response = {clientDataJSON: bufToB64url(r.clientDataJSON)};
    if (r.attestationObject) {
      const authData = call(r, 'getAuthenticatorData');
      if (authData) response.authenticatorData = bufToB64url(authData);
      const transports = call(r, 'getTransports');
      if (transports) response.transports = Array.from(transports);
      const publicKey = call(r, 'getPublicKey');
      if (publicKey) response.publicKey = bufToB64url(publicKey);
      const alg = call(r, 'getPublicKeyAlgorithm');
      if (typeof alg === 'number') response.publicKeyAlgorithm = alg;
      response.attestationObject = bufToB64url(r.attestationObject);
    } else {
      response.authenticatorData = bufToB64url(r.authenticatorData);
      response.signature = bufToB64url(r.signature);
      if (r.userHandle) response.userHandle = bufToB64url(r.userHandle);
    }
    const json = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      response: response,
      type: cred.type,
      clientExtensionResults: jsonable(call(cred, 'getClientExtensionResults') || {}),
    };
    if (cred.authenticatorAttachment) json.authenticatorAttachment = cred.authenticatorAttachment;
    return json;
  }

  window.mamoruWebAuthn = Object.freeze({toJSON, b64urlToBuf, bufToB64url});

  const descriptor = (d) => Object.assign({}, d, {id: b64urlToBuf(d.id)});

  // creationOptions and requestOptions turn the options' JSON into what
  // navigator.credentials takes.
  function creationOptions(pk) {
    const P = window.PublicKeyCredential;
    if (typeof P.parseCreationOptionsFromJSON === 'function') return P.parseCreationOptionsFromJSON(pk);
    const o = Object.assign({}, pk, {
      challenge: b64urlToBuf(pk.challenge),
      user: Object.assign({}, pk.user, {id: b64urlToBuf(pk.user.id)}),
    });
    if (Array.isArray(pk.excludeCredentials)) o.excludeCredentials = pk.excludeCredentials.map(descriptor);
    return o;
  }

  function requestOptions(pk) {
    const P = window.PublicKeyCredential;
    if (typeof P.parseRequestOptionsFromJSON === 'function') return P.parseRequestOptionsFromJSON(pk);
    const o = Object.assign({}, pk, {challenge: b64urlToBuf(pk.challenge)});
    if (Array.isArray(pk.allowCredentials)) o.allowCredentials = pk.allowCredentials.map(descriptor);
    return o;
  }

  const FALLBACK_ERROR = 'Something went wrong. Please try again.';

  // An OptionsError is a refusal of the options endpoint; its message is
  // meant for the user.
  class OptionsError extends Error {}

  // fetchOptions POSTs the form's fields, but the credential, to its
  // data-options-url and returns the "publicKey" of the answer.
  async function fetchOptions(form) {
    const url = new URL(form.dataset.optionsUrl || '', window.location.href);
    if (url.origin !== window.location.origin) throw new Error('webauthn: data-options-url is not same-origin');
    const body = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (name !== 'credential' && typeof value === 'string') body.append(name, value);
    }
    const res = await fetch(url.href, {
      method: 'POST',
      mode: 'same-origin',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: {'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json'},
      body: body.toString(),
    });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      // Not JSON (a proxy's error page, a redirect to a page): generic text.
    }
    if (!res.ok || !json || typeof json.publicKey !== 'object' || json.publicKey === null) {
      const message = json && (json.message || (json.error && json.error.message));
      throw new OptionsError(typeof message === 'string' && message ? message : form.dataset.errorText || FALLBACK_ERROR);
    }
    return json.publicKey;
  }

  function enhance(form) {
    const kind = form.dataset.webauthn;
    const errorEl = form.querySelector('[data-webauthn-error]');
    const buttons = () => form.querySelectorAll('button[type=submit], button:not([type]), input[type=submit], input[type=image]');
    let input = form.querySelector('input[name="credential"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'credential';
      form.appendChild(input);
    }

    const show = (text) => {
      if (!errorEl) return;
      errorEl.textContent = text;
      errorEl.hidden = false;
    };
    const clear = () => {
      if (!errorEl) return;
      errorEl.textContent = '';
      errorEl.hidden = true;
    };
    const setBusy = (busy) => {
      for (const b of buttons()) b.disabled = busy;
      if (busy) form.setAttribute('aria-busy', 'true');
      else form.removeAttribute('aria-busy');
    };

    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(form.dataset.unsupportedText || form.dataset.errorText || FALLBACK_ERROR);
      for (const b of buttons()) b.disabled = true;
      // Enter in a text field must not post the form without a credential.
      form.addEventListener('submit', (event) => event.preventDefault());
      return;
    }

    let running = false; // a modal ceremony or the native submission
    let conditional = null; // the AbortController of a pending autofill request
    let pendingOptions = null; // the autofill request's options, while fetched

    // finish posts the credential to the form's action. The native
    // submit() fires no submit event, so onSubmit does not run again.
    const finish = (cred) => {
      input.value = JSON.stringify(toJSON(cred));
      running = true;
      setBusy(true);
      HTMLFormElement.prototype.submit.call(form);
    };

    // ceremony gets the options and the credential; mediation is
    // 'conditional' for the autofill request, else undefined.
    async function ceremony(mediation, signal) {
      if (pendingOptions) {
        // The autofill request's options are on their way: let the server
        // answer them first, so that ours are the ones it keeps.
        await pendingOptions.catch(() => {});
      }
      if (signal && signal.aborted) throw new DOMException('aborted', 'AbortError');
      const fetching = fetchOptions(form);
      if (mediation) pendingOptions = fetching;
      let pk;
      try {
        pk = await fetching;
      } finally {
        if (pendingOptions === fetching) pendingOptions = null;
      }
      if (signal && signal.aborted) throw new DOMException('aborted', 'AbortError');
      if (kind === 'create') {
        return navigator.credentials.create({publicKey: creationOptions(pk)});
      }
      const options = {publicKey: requestOptions(pk)};
      if (mediation) options.mediation = mediation;
      if (signal) options.signal = signal;
      return navigator.credentials.get(options);
    }

    // arm starts the autofill request of a conditional form, if the
    // browser offers conditional mediation. Its failures stay silent: the
    // button still works.
    async function arm() {
      if (kind !== 'get' || form.dataset.webauthnConditional !== '1' || conditional || running) return;
      const P = window.PublicKeyCredential;
      if (typeof P.isConditionalMediationAvailable !== 'function') return;
      const controller = new AbortController();
      conditional = controller;
      try {
        if (!(await P.isConditionalMediationAvailable())) return;
        const cred = await ceremony('conditional', controller.signal);
        if (controller.signal.aborted || running) return;
        if (!cred) return;
        finish(cred);
      } catch (e) {
        if (e && e.name !== 'AbortError' && e.name !== 'NotAllowedError') {
          console.warn('webauthn: autofill', e);
        }
      } finally {
        if (conditional === controller) conditional = null;
      }
    }

    async function onSubmit(event) {
      event.preventDefault();
      if (running) return;
      running = true;
      if (conditional) {
        // One request at a time: the autofill one gives way.
        conditional.abort();
        conditional = null;
      }
      clear();
      setBusy(true);
      let cred = null;
      try {
        cred = await ceremony();
        if (!cred) throw new DOMException('no credential', 'NotAllowedError');
      } catch (e) {
        running = false;
        setBusy(false);
        if (e instanceof OptionsError) {
          show(e.message);
        } else if (e && (e.name === 'NotAllowedError' || e.name === 'AbortError')) {
          // Cancelled, timed out, or no matching credential.
          show(form.dataset.cancelText || form.dataset.errorText || FALLBACK_ERROR);
        } else if (e && e.name === 'InvalidStateError' && kind === 'create') {
          // This authenticator holds a credential of the account already.
          show(form.dataset.existsText || form.dataset.errorText || FALLBACK_ERROR);
        } else {
          console.error('webauthn:', e);
          show(form.dataset.errorText || FALLBACK_ERROR);
        }
        arm();
        return;
      }
      finish(cred);
    }

    form.addEventListener('submit', onSubmit);
    // Back to this page from the history cache: the form works again.
    window.addEventListener('pageshow', (event) => {
      if (!event.persisted) return;
      running = false;
      input.value = '';
      setBusy(false);
      arm();
    });
    arm();
  }

  function init() {
    for (const form of document.querySelectorAll('form[data-webauthn="create"], form[data-webauthn="get"]')) {
      enhance(form);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
