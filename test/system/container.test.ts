import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { benchServerCommand } from '../../bench/server-env.js';
import { settingGroups } from '../../src/config.js';

// No container engine runs here, so the container recipe is checked against the repository instead: what the
// Dockerfile copies exists and reaches the build context, it runs only npm scripts that are exercised here, and
// compose.yaml wires the image to PostgreSQL with settings src/config.ts knows.
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;

/** Every npm script the container recipe names, and where the suite or .ci/run runs it (checked below). */
const exercised: Record<string, { where: string; evidence: string }> = {
  'build:server': { where: '.ci/run', evidence: 'npm run build:server' },
  'build:web': { where: 'test/system/compiled.test.ts', evidence: "'build:web'" },
  'start:compiled': { where: 'test/system/compiled.test.ts', evidence: "'start:compiled'" },
  backup: { where: 'test/system/backup.test.ts', evidence: "npm('backup'" },
  restore: { where: 'test/system/backup.test.ts', evidence: "npm('restore'" },
};

type Instruction = { keyword: string; args: string };

function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(read('Dockerfile'));
const ignored = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

test('every path the Dockerfile copies from the context exists and is not left out by .dockerignore', () => {
  const copies = dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='));
  assert.ok(copies.length >= 5, 'the Dockerfile copies the sources');
  for (const { args } of copies) {
    const sources = args
      .split(/\s+/)
      .filter((arg) => !arg.startsWith('--'))
      .slice(0, -1);
    for (const source of sources) {
      assert.ok(fs.existsSync(path.join(root, source)), `COPY ${source}: no such path in the repository`);
      const parts = path.normalize(source).split(path.sep);
      const excludedBy = ignored.find((pattern) => parts.some((_, i) => parts.slice(0, i + 1).join('/') === pattern));
      assert.equal(excludedBy, undefined, `COPY ${source} is excluded by .dockerignore (${excludedBy})`);
    }
  }
  // Host builds, dependencies and data never reach the context (the image builds its own).
  for (const entry of ['node_modules', 'dist', 'web/dist', 'data', '.env', '.git']) assert.ok(ignored.includes(entry), entry);
});

test('the Dockerfile builds in one stage and runs in a slim, non-root one with a volume and a health check', () => {
  const stages = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
  assert.deepEqual(stages, ['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS runtime']);
  const runtime = dockerfile.slice(dockerfile.findIndex((i) => i.args.endsWith('AS runtime')));
  const runs = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  assert.ok(
    runs.some((run) => run.includes('npm ci --omit=dev')),
    'production dependencies only',
  );
  assert.ok(
    runs.some((run) => /postgresql-client-15\b/.test(run)),
    'pg_dump/pg_restore matching the PostgreSQL 15 server',
  );
  assert.deepEqual(
    runtime.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build')).map((i) => i.args),
    ['--from=build /app/dist ./dist', '--from=build /app/web/dist ./web/dist'],
  );
  assert.equal(runtime.find((i) => i.keyword === 'USER')?.args, 'node');
  assert.match(runtime.find((i) => i.keyword === 'ENV')?.args ?? '', /\bDATA_DIR=\/data\b/);
  assert.equal(runtime.find((i) => i.keyword === 'VOLUME')?.args, '["/data"]');
  assert.match(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '', /\/healthz/);
});

test('the image runs only npm scripts that exist and that the suite or .ci/run exercises', () => {
  const named = new Set<string>();
  for (const file of ['Dockerfile', 'compose.yaml']) {
    for (const match of read(file).matchAll(/npm run ([\w:-]+)/g)) named.add(match[1]);
  }
  assert.ok(named.has('build:server') && named.has('build:web'));
  for (const script of named) {
    assert.ok(scripts[script], `npm run ${script}: no such script in package.json`);
    const entry = exercised[script];
    assert.ok(entry, `npm run ${script} is not in the list of exercised scripts`);
    assert.ok(read(entry.where).includes(entry.evidence), `${entry.where} does not run ${script} any more`);
  }
  // CMD runs the server without npm in between (signals reach it), so it must be exactly start:compiled's command,
  // and the settings that script puts before it (memory: docs/production.md) are the image's ENV. The script is read
  // as the bench reads it to start the server it measures.
  const cmd = JSON.parse(dockerfile.find((i) => i.keyword === 'CMD')!.args) as string[];
  const compiled = benchServerCommand(true);
  assert.deepEqual(cmd, ['node', ...compiled.args]);
  const env = dockerfile.filter((i) => i.keyword === 'ENV').flatMap((i) => i.args.split(/\s+/));
  for (const [name, value] of Object.entries(compiled.env)) {
    assert.ok(env.includes(`${name}=${value}`), `the image does not set ${name}=${value} as start:compiled does`);
  }
});

/** The environment variables src/config.ts reads: its settings table, the one place a setting is declared. */
function configNames(): Set<string> {
  return new Set(settingGroups().flatMap((group) => group.settings.map((setting) => setting.name)));
}

test('compose.yaml parses, builds this Dockerfile, waits for a healthy PostgreSQL 15 and sets only known settings', () => {
  const compose = parse(read('compose.yaml'));
  const { stageline, postgres } = compose.services;
  assert.equal(stageline.build.context, '.');
  assert.ok(fs.existsSync(path.join(root, stageline.build.dockerfile)), stageline.build.dockerfile);
  assert.match(postgres.image, /^postgres:15\b/);
  assert.deepEqual(stageline.depends_on, { postgres: { condition: 'service_healthy' } });
  assert.ok(postgres.healthcheck.test.join(' ').includes('pg_isready'));
  assert.ok(stageline.healthcheck.test.join(' ').includes('/healthz'));
  assert.ok(postgres.volumes.some((v: string) => v.endsWith(':/var/lib/postgresql/data')));
  for (const volume of [...postgres.volumes, ...stageline.volumes]) assert.ok(volume.split(':')[0] in compose.volumes, volume);

  const known = configNames();
  assert.ok(known.has('DATABASE_URL') && known.has('TRUST_PROXY'), 'names read from src/config.ts');
  for (const name of Object.keys(stageline.environment)) assert.ok(known.has(name), `${name} is not a setting src/config.ts knows`);
  const databaseUrl = new URL(stageline.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'secret'));
  assert.equal(databaseUrl.hostname, 'postgres', 'DATABASE_URL points at the postgres service');
  assert.equal(databaseUrl.username, postgres.environment.POSTGRES_USER);
  assert.equal(databaseUrl.pathname, `/${postgres.environment.POSTGRES_DB}`);
  assert.equal(stageline.environment.DATA_DIR, '/data');
});
