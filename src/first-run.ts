import fs from 'node:fs';
import path from 'node:path';
import type { App } from './app.js';
import { demoUsers } from './modules/users/demo.js';

/** Where the first admin's generated password goes when no terminal is there to show it (a container, a service). */
export const initialPasswordFile = 'initial-admin-password';

type Terminal = { isTTY?: boolean; write(text: string): unknown };

/** A block a person sees among the logs: framed, with blank lines around it. */
export function block(lines: string[]): string {
  const rule = '='.repeat(Math.min(78, Math.max(...lines.map((line) => line.length)) + 4));
  return `\n${rule}\n${lines.map((line) => `  ${line}`).join('\n')}\n${rule}\n\n`;
}

/**
 * Tells the person who started the server how to sign in, once it listens. A generated admin password is shown on
 * the terminal only; without one (standard output is a pipe or a log collector) it is written to a file in DATA_DIR
 * readable by this account alone, and the log says where — never the password itself.
 */
export function announceSignIn(app: App, url: string, options: { demo: boolean; terminal?: Terminal }): void {
  const terminal = options.terminal ?? process.stdout;
  const generated = app.services.auth.takeGeneratedAdmin();
  const lines = [`Stageline is ready: ${url}/app/   (API reference: ${url}/docs)`, ''];
  if (options.demo) {
    lines.push('Demo accounts (never use them outside a demo):');
    for (const user of demoUsers) lines.push(`  ${user.role.padEnd(9)} ${user.email.padEnd(31)} ${user.password}`);
  }
  if (generated) {
    if (!terminal.isTTY) {
      writePasswordFile(app, generated);
    } else {
      lines.push(
        `Sign in as ${generated.email} with password ${generated.password}`,
        'This password is shown only this once: change it under Admin → Users after signing in.',
      );
    }
  } else if (!options.demo) {
    lines.push(`Sign in with your admin account (${app.config.auth.adminEmail} unless someone changed it).`);
  }
  if (terminal.isTTY) terminal.write(block(lines));
}

function writePasswordFile(app: App, admin: { email: string; password: string }): void {
  const file = path.join(app.config.dataDir, initialPasswordFile);
  try {
    fs.mkdirSync(app.config.dataDir, { recursive: true });
    fs.writeFileSync(file, `${admin.password}\n`, { mode: 0o600 });
    app.log.warn(
      { email: admin.email, file },
      `sign in as ${admin.email} with the password in ${file} (readable by this account only); change it, then delete the file`,
    );
  } catch (error) {
    app.log.error(
      { email: admin.email, err: error },
      'could not write the first admin password file: start once with ADMIN_API_TOKEN and set a new password (docs/getting-started.md)',
    );
  }
}
