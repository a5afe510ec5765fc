// Runs ../assets/altcha-solver.js against a tiny stand-in for the DOM (just
// what the script touches) for TestSolverScriptInPage in package captcha:
// a form with a <div data-mamoru-pow> and a submit button, a real fetch of
// the challenge URL, and a submit clicked while the solver works.
//
//   node solver_dom.mjs CHALLENGE_URL     prints a JSON report
import { readFile } from 'node:fs/promises';
import vm from 'node:vm';

class Element {
  constructor(tag, attrs = {}) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.parent = null;
    this.attributes = {};
    this.dataset = {};
    this.listeners = {};
    this.disabled = false;
    this.textContent = '';
    Object.assign(this, attrs);
  }
  replaceChildren(...nodes) {
    for (const c of this.children) c.parentNode = null;
    this.children = [];
    this.textContent = '';
    for (const n of nodes) this.appendChild(n);
  }

  appendChild(child) {
    child.parent = this;
    this.children.push(child);
    return child;
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  closest(selector) {
    for (let e = this; e; e = e.parent) if (e.tagName === selector.toUpperCase()) return e;
    return null;
  }
  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }
  *descendants() {
    for (const c of this.children) {
      yield c;
      yield* c.descendants();
    }
  }
  // Only the two selectors the script uses.
  querySelectorAll(selector) {
    const all = [...this.descendants()];
    if (selector.includes('data-mamoru-pow')) return all.filter((e) => 'mamoruPow' in e.dataset && e.closest('form'));
    if (selector.includes('submit')) {
      return all.filter((e) => (e.tagName === 'BUTTON' && (!e.type || e.type === 'submit')) || (e.tagName === 'INPUT' && e.type === 'submit'));
    }
    throw new Error('selector not supported by the stand-in: ' + selector);
  }
}
class HTMLInputElement extends Element {}
class Form extends Element {
  constructor() {
    super('form');
    this.submissions = [];
    this.elements = { namedItem: (name) => [...this.descendants()].find((e) => e.name === name) || null };
  }
  // A click on a submit button, or requestSubmit: fires "submit" and, if
  // nobody prevented it, records what the browser would send.
  requestSubmit(submitter) {
    const event = { type: 'submit', submitter, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    for (const l of this.listeners.submit || []) l(event);
    if (!event.defaultPrevented) {
      const input = this.elements.namedItem('altcha');
      this.submissions.push(input ? input.value : null);
    }
    return event.defaultPrevented;
  }
}

const url = process.argv[2];
const form = new Form();
const pow = form.appendChild(new Element('div'));
Object.assign(pow.dataset, { mamoruPow: '', challengeUrl: url, textWorking: '確認中…', textDone: '確認しました', textError: '確認できませんでした' });
const button = form.appendChild(new Element('button'));
const body = new Element('body');
body.appendChild(form);

globalThis.HTMLInputElement = HTMLInputElement;
globalThis.document = {
  readyState: 'complete',
  createElement: (tag) => (tag === 'input' ? new HTMLInputElement(tag) : new Element(tag)),
  querySelectorAll: (selector) => body.querySelectorAll(selector),
};

const file = new URL('../assets/altcha-solver.js', import.meta.url);
vm.runInThisContext(await readFile(file, 'utf8'), { filename: file.pathname });

const status = pow.children.find((c) => c.attributes.role === 'status');
const report = {
  working: { state: pow.dataset.state, text: status && status.textContent, buttonDisabled: button.disabled },
};
// The user clicks submit at once: held back until the answer is there.
report.earlySubmitPrevented = form.requestSubmit(button);
const deadline = Date.now() + 60000;
while (pow.dataset.state === 'working' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
await new Promise((r) => setTimeout(r, 10)); // let the queued submit go
report.after = { state: pow.dataset.state, text: status.textContent, buttonDisabled: button.disabled };
report.submissions = form.submissions;
// A second click submits again, with the same (still valid) answer.
report.laterSubmitPrevented = form.requestSubmit(button);
report.submissions = form.submissions;
console.log(JSON.stringify(report));
