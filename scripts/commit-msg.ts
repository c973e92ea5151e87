/**
 * The commit-msg hook (installed by `npm install`, see CONTRIBUTING.md): refuses a subject over 72 characters and a
 * subject run on into the body without a blank line. `git commit --no-verify` skips it when you must.
 */
import fs from 'node:fs';

export const MAX_SUBJECT = 72;

/** The problems with a commit message, none when it follows the convention. */
export function messageProblems(message: string): string[] {
  const lines = message
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  const subject = lines[0] ?? '';
  // Git writes these subjects itself; they are as long as the commit they name.
  if (/^(Merge |Revert "|fixup! |squash! |amend! )/.test(subject)) return [];
  const problems: string[] = [];
  if (subject === '') problems.push('the subject is empty');
  const length = [...subject].length;
  if (length > MAX_SUBJECT) problems.push(`the subject is ${length} characters; keep it to ${MAX_SUBJECT} and say the rest in the body`);
  if (lines.length > 1 && lines[1] !== '') problems.push('leave a blank line between the subject and the body');
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx scripts/commit-msg.ts <commit message file>');
  const problems = messageProblems(fs.readFileSync(file, 'utf8'));
  if (problems.length > 0) {
    console.error(`commit message refused: ${problems.join('; ')}.\n(The convention: CONTRIBUTING.md, "Commits".)`);
    process.exit(1);
  }
}
