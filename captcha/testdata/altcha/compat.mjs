// Runs the reference ALTCHA library (altcha-lib, protocol v1) and mamoru's
// own solver script for TestALTCHACompat in package captcha.
//
//   node compat.mjs solve-altcha              < challenge.json   prints the answer (base64)
//   node compat.mjs solve-mamoru              < challenge.json   the same, with ../../assets/altcha-solver.js
//   node compat.mjs create-altcha KEY MAX EXPIRES                prints a challenge (JSON)
//   node compat.mjs verify-altcha KEY         < answer           prints true or false
//
// KEY is the HMAC key as text, MAX the max number, EXPIRES a Unix time.
import { readFile } from 'node:fs/promises';
import vm from 'node:vm';
import { createChallenge, solveChallenge, verifySolution } from 'altcha-lib/v1';

async function stdin() {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return s.trim();
}

function fail(message) {
  console.error('compat.mjs: ' + message);
  process.exit(2);
}

const [command, ...args] = process.argv.slice(2);
switch (command) {
  case 'solve-altcha': {
    const ch = JSON.parse(await stdin());
    const solution = await solveChallenge(ch.challenge, ch.salt, ch.algorithm, ch.maxnumber).promise;
    if (!solution) fail('altcha-lib found no solution');
    const answer = { algorithm: ch.algorithm, challenge: ch.challenge, number: solution.number, salt: ch.salt, signature: ch.signature, took: solution.took };
    console.log(btoa(JSON.stringify(answer)));
    break;
  }
  case 'solve-mamoru': {
    const file = new URL('../../assets/altcha-solver.js', import.meta.url);
    vm.runInThisContext(await readFile(file, 'utf8'), { filename: file.pathname });
    const { solve, payload } = globalThis.MamoruPoW;
    const ch = JSON.parse(await stdin());
    const solution = await solve(ch);
    if (!solution) fail('our solver found no solution');
    console.log(payload(ch, solution));
    break;
  }
  case 'create-altcha': {
    const [key, max, expires] = args;
    if (!key || !max || !expires) fail('usage: create-altcha KEY MAX EXPIRES');
    const ch = await createChallenge({
      hmacKey: key,
      maxnumber: Number(max),
      expires: new Date(Number(expires) * 1000),
    });
    console.log(JSON.stringify(ch));
    break;
  }
  case 'verify-altcha': {
    const [key] = args;
    if (!key) fail('usage: verify-altcha KEY < answer');
    console.log(String(await verifySolution(await stdin(), key)));
    break;
  }
  default:
    fail('unknown command ' + JSON.stringify(command));
}
