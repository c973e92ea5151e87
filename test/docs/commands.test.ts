import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startOpsSim } from '../../src/ops-sim/server.js';
import { freshDatabase } from '../helpers/database.js';
import { commandAround, documentationFiles, isNpmLine, npmScripts, root, shellBlocks } from './blocks.js';

/*
 * Every command in the documentation is run or checked: ```sh blocks of README.md, CONTRIBUTING.md and docs/ run
 * page by page in one bash each, against a real server on a loopback port, with the variables the pages name
 * ($STAGELINE, $TOKEN, $ADMIN_PASSWORD, $OPS_CALLBACK_SECRET). npm and npx lines are not run (they start servers or
 * whole suites; those are exercised by their own tests): each must name a script of package.json or a file that
 * exists. A block written ```sh skip is counted, not run. An answer of 400 or more must be expected by the page: its
 * status written in a comment on that command.
 */

const token = 'docs-admin-token-0123456789abcdef';
const adminPassword = 'docs-admin-password-1';
const callbackSecret = 'docs-callback-secret-0123456789';
const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

type Answer = { line: number; status: number; method: string; url: string };
let app: App;
let baseUrl: string;
const answers: Answer[] = [];
/** Script lines whose request reached the server (an event stream never finishes its answer). */
const arrivals: number[] = [];
const closers: (() => Promise<unknown>)[] = [];

before(async () => {
  const ops = await startOpsSim({ seed: 7, sendFailureRate: 0, queryFailureRate: 0 });
  closers.push(() => ops.close());
  const database = await freshDatabase();
  closers.push(() => database.close());
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_PASSWORD: adminPassword,
    ADMIN_API_TOKEN: token,
    PASSWORD_HASH_COST: '4',
    RATE_LIMIT_MAX: '0',
    OPS_URL: ops.url,
    OPS_SYNC_INTERVAL: '0',
    OPS_CALLBACK_SECRET: callbackSecret,
    // The pages send to OPS and then ask for the status: the send must land first, even on a loaded machine.
    OPS_WAIT_MS: '20000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_MAX_ATTEMPTS: '1',
  });
  app = await buildApp({ config, database, logger: false, backgroundJobs: true });
  closers.push(() => app.close());
  app.addHook('onRequest', async (request) => {
    const line = Number(request.headers['x-docs-line']);
    if (line) arrivals.push(line);
  });
  app.addHook('onResponse', async (request, reply) => {
    const line = Number(request.headers['x-docs-line']);
    if (line) answers.push({ line, status: reply.statusCode, method: request.method, url: request.url });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** curl through a wrapper that tags each request with the script line it comes from; streams stop after 2 s. */
const prelude = [
  'set -eo pipefail',
  'curl() {',
  '  local limit=30; case " $* " in *" -N "*) limit=2;; esac',
  '  local rc=0; command curl --max-time "$limit" -H "X-Docs-Line: ${BASH_LINENO[0]}" "$@" || rc=$?',
  '  if [ "$rc" -eq 28 ] && [ "$limit" -eq 2 ]; then return 0; fi; return "$rc"',
  '}',
];

function bash(script: string, name: string, cwd: string, env: Record<string, string | undefined>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script, name], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('unit: blocks, npm scripts and continued commands are read as the smoke test needs', () => {
  const blocks = shellBlocks('x.md', 'a\n```sh\ncurl -s a \\\n  -d b   # 409\n```\n```sh skip\nrm -rf /\n```\n```json\n{}\n```\n');
  assert.deepEqual(
    blocks.map((block) => [block.line, block.skip, block.lines.length]),
    [
      [3, false, 2],
      [7, true, 1],
    ],
  );
  assert.throws(() => shellBlocks('x.md', '```bash\nls\n```\n'), /write shell as/);
  assert.deepEqual(npmScripts('npm install && npm start   # npm run nothing'), ['start']);
  assert.deepEqual(npmScripts('TEST_DATABASE_URL=x npm test; npm run bench -- --quick'), ['test', 'bench']);
  assert.equal(isNpmLine('DATABASE_URL=x npm start'), true);
  assert.equal(isNpmLine('curl -s x   # not npm start'), false);
  assert.deepEqual(commandAround(['a \\', '  b', 'c'], 1), ['a \\', '  b']);
});

for (const file of documentationFiles()) {
  test(`${file}: every command runs against a real server or names what exists`, async (t) => {
    const blocks = shellBlocks(file);
    const docLines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
    let npmChecked = 0;
    for (const block of blocks) {
      block.lines.forEach((line, i) => {
        for (const script of npmScripts(line)) {
          assert.ok(script in scripts, `${file}:${block.line + i}: "npm ${script}" is not a script of package.json`);
          npmChecked++;
        }
        for (const match of line.replace(/\s#.*$/, '').matchAll(/\bnpx\s+tsx\s+(\S+)/g)) {
          assert.ok(fs.existsSync(path.join(root, match[1])), `${file}:${block.line + i}: ${match[1]} does not exist`);
          npmChecked++;
        }
      });
    }
    const runnable = blocks.filter((block) => !block.skip);
    const skipped = blocks.length - runnable.length;
    if (runnable.length === 0) {
      t.diagnostic(`${file}: ${blocks.length} blocks, ${skipped} skipped, ${npmChecked} npm commands checked`);
      return;
    }
    // Script line → page line (0-based), so an answer is traced back to the command that asked.
    const script = [...prelude];
    const pageLine: number[] = script.map(() => -1);
    for (const block of runnable) {
      block.lines.forEach((line, i) => {
        script.push(isNpmLine(line) ? ': not run here' : line);
        pageLine.push(block.line - 1 + i);
      });
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-docs-'));
    const from = answers.length;
    const arrivedFrom = arrivals.length;
    // Asynchronously: the server answering the commands runs in this process.
    const run = await bash(script.join('\n'), file, work, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      STAGELINE: baseUrl,
      TOKEN: token,
      ADMIN_PASSWORD: adminPassword,
      OPS_CALLBACK_SECRET: callbackSecret,
    });
    fs.rmSync(work, { recursive: true, force: true });
    assert.equal(run.status, 0, `${file}: the commands failed (exit ${run.status})\n${run.stderr}\n${run.stdout.slice(-3000)}`);
    const mine = answers.slice(from);
    for (const answer of mine) {
      if (answer.status < 400) continue;
      const at = pageLine[answer.line - 1];
      const command = commandAround(docLines, at);
      assert.ok(
        command.some((line) => new RegExp(`#.*\\b${answer.status}\\b`).test(line)),
        `${file}:${at + 1}: ${answer.method} ${answer.url} answered ${answer.status}, which the page does not say`,
      );
    }
    const asked = new Set(arrivals.slice(arrivedFrom).map((line) => pageLine[line - 1]));
    const curlLines = runnable.flatMap((block) =>
      block.lines.map((line, i) => ({ line, at: block.line - 1 + i })).filter(({ line }) => /^\s*(\S+=\S*\s+)*curl\s/.test(line)),
    );
    for (const { at } of curlLines) {
      const command = commandAround(docLines, at).length;
      assert.ok(
        [...Array(command).keys()].some((offset) => asked.has(at + offset)),
        `${file}:${at + 1}: this curl command never reached the server`,
      );
    }
    t.diagnostic(
      `${file}: ${asked.size} commands asked, ${mine.length} answers, from ${curlLines.length} curl commands, ${skipped} blocks skipped, ${npmChecked} npm commands checked`,
    );
  });
}
