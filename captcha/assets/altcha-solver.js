// mamoru's proof-of-work solver for ALTCHA v1 challenges (package captcha).
// Plain ES2020, no build step, no third party.
//
// In a page: every <div data-mamoru-pow data-challenge-url="..."> inside a
// form fetches a challenge (GET, JSON), solves it with crypto.subtle, and
// puts the answer, base64(JSON{algorithm, challenge, number, salt,
// signature, took}), into the form's hidden input "altcha" (or the name in
// data-field-name). The form's submit buttons stay disabled meanwhile. The
// status text comes from the element's data-text-working, data-text-done
// and data-text-error, so the page chooses the language; data-state is
// "working", "done" or "error" for styling. A submit with an expired answer
// solves a new challenge first; after an error the form submits without an
// answer and the server decides.
//
// Elsewhere (Node, tests): globalThis.MamoruPoW and module.exports are
// {solve, payload, expiresAt}.
(function () {
  'use strict';

  const encoder = new TextEncoder();

  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

  // solve finds the number n in 0..maxnumber such that the SHA-256 of
  // salt + n, in hex, is the challenge. It hashes in batches of `batch`
  // digests at a time and gives the event loop a turn every ~40 ms, so the
  // page stays responsive. It resolves to {number, took} (took in ms), or
  // null when no number matches or signal aborted.
  async function solve(challenge, { batch = 250, signal } = {}) {
    if (challenge.algorithm !== 'SHA-256') throw new Error('unsupported algorithm: ' + challenge.algorithm);
    const target = hexToBytes(challenge.challenge);
    const max = challenge.maxnumber ?? challenge.maxNumber ?? 1e6;
    const start = Date.now();
    let lastPause = start;
    for (let first = 0; first <= max; first += batch) {
      if (signal && signal.aborted) return null;
      const last = Math.min(first + batch - 1, max);
      const digests = [];
      for (let n = first; n <= last; n++) {
        digests.push(crypto.subtle.digest('SHA-256', encoder.encode(challenge.salt + n)));
      }
      const results = await Promise.all(digests);
      for (let i = 0; i < results.length; i++) {
        if (equalBytes(new Uint8Array(results[i]), target)) return { number: first + i, took: Date.now() - start };
      }
      if (Date.now() - lastPause > 40) {
        await pause();
        lastPause = Date.now();
      }
    }
    return null;
  }

  // payload is the form field's value for a solved challenge.
  function payload(challenge, solution) {
    return btoa(JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: solution.number,
      salt: challenge.salt,
      signature: challenge.signature,
      took: solution.took,
    }));
  }

  // expiresAt is the challenge's expiry in ms since the epoch (Infinity
  // when its salt names none).
  function expiresAt(challenge) {
    const query = challenge.salt.split('?')[1] || '';
    const unix = parseInt(new URLSearchParams(query).get('expires'), 10);
    return Number.isFinite(unix) ? unix * 1000 : Infinity;
  }

  function attach(el) {
    const form = el.closest('form');
    if (!form || !el.dataset.challengeUrl) return;
    const name = el.dataset.fieldName || 'altcha';
    let input = form.elements.namedItem(name);
    if (!(input instanceof HTMLInputElement)) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    // The element's own text is the page's hint for browsers without
    // JavaScript; with it, the status replaces the hint.
    const status = document.createElement('span');
    status.setAttribute('role', 'status');
    el.replaceChildren(status);

    let validUntil = 0; // ms; the answer in input is good until then
    let running = null; // the solve in progress
    let failed = false;
    let submitQueued = false; // a submit waits for the solve in progress

    const show = (state) => {
      el.dataset.state = state;
      const key = { working: 'textWorking', done: 'textDone', error: 'textError' }[state];
      status.textContent = el.dataset[key] || '';
    };
    const setBusy = (busy) => {
      for (const b of form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]')) {
        b.disabled = busy;
      }
    };

    async function run() {
      setBusy(true);
      show('working');
      input.value = '';
      try {
        const res = await fetch(el.dataset.challengeUrl, {
          credentials: 'same-origin',
          cache: 'no-store',
          headers: { Accept: 'application/json' },
        });
        if (!res.ok) throw new Error('challenge: HTTP ' + res.status);
        const challenge = await res.json();
        const solution = await solve(challenge);
        if (!solution) throw new Error('challenge: no solution');
        input.value = payload(challenge, solution);
        validUntil = expiresAt(challenge) - 5000; // leave time for the request
        failed = false;
        show('done');
      } catch (err) {
        failed = true;
        show('error');
        console.warn('mamoru captcha:', err);
      } finally {
        setBusy(false);
        running = null;
      }
    }
    const start = () => running || (running = run());

    form.addEventListener('submit', (event) => {
      if (failed || (input.value && Date.now() < validUntil)) return;
      event.preventDefault();
      if (submitQueued) return;
      submitQueued = true;
      const submitter = event.submitter;
      start().then(() => {
        submitQueued = false;
        if (!failed) form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      });
    });
    start();
  }

  const api = { solve, payload, expiresAt };
  globalThis.MamoruPoW = api;
  if (typeof module === 'object' && module && module.exports) module.exports = api;

  if (typeof document !== 'undefined') {
    const init = () => document.querySelectorAll('form [data-mamoru-pow]').forEach(attach);
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
    else init();
  }
})();
