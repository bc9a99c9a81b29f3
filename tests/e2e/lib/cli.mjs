// Runs `edubrain` subcommands as a shell would: arguments, optional standard input and umask;
// answers the exit status and both outputs, and fails on any sanitizer report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN } from './server.mjs';

const SANITIZER_RE = /runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer/;

/**
 * Runs BIN with args. opts: input (written to standard input, which is then closed), cwd,
 * umask (an octal string such as '000': the command runs under `sh -c 'umask ...; exec'`),
 * timeoutMs. Resolves { code, signal, stdout, stderr }.
 */
export function runCli(args, { input, cwd, umask, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const file = umask === undefined ? BIN : 'sh';
    const argv = umask === undefined ? args : ['-c', `umask ${umask} && exec "$0" "$@"`, BIN, ...args];
    const child = spawn(file, argv, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c.toString(); });
    child.stderr.on('data', (c) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        assert.doesNotMatch(stderr, SANITIZER_RE,
          `edubrain ${args.join(' ')} printed a sanitizer report:\n${stderr}`);
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
    /* A command that exits before reading its input must not fail the test with EPIPE. */
    child.stdin.on('error', () => {});
    if (input !== undefined) child.stdin.write(input);
    child.stdin.end();
  });
}

/** Asserts the exit status, showing the command and its outputs on failure. */
export function expectExit(res, code, what) {
  assert.equal(res.signal, null, `${what}: died of ${res.signal}\n${res.stderr}`);
  const ok = Array.isArray(code) ? code.includes(res.code) : res.code === code;
  assert.ok(ok, `${what}: exit ${res.code}, expected ${JSON.stringify(code)}\n--- stdout ---\n${
    res.stdout}\n--- stderr ---\n${res.stderr}`);
  return res;
}
