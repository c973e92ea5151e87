import fs from 'node:fs';
import path from 'node:path';

/** A fenced block of shell in a Markdown page: ```sh runs in the docs smoke test, ```sh skip is only read. */
export type ShellBlock = { file: string; line: number; skip: boolean; lines: string[] };

export const root = path.resolve(import.meta.dirname, '../..');

/** README.md, CONTRIBUTING.md and every page under docs/, as paths relative to the repository. */
export function documentationFiles(): string[] {
  const pages = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'CONTRIBUTING.md', ...pages.sort()].filter((file) => fs.existsSync(path.join(root, file)));
}

/** Every fenced block of one page; shell must be written ```sh (a ```bash or ```shell block is an error). */
export function shellBlocks(file: string, text = fs.readFileSync(path.join(root, file), 'utf8')): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a fence that never closes`);
    if (['bash', 'shell', 'console', 'zsh'].includes(fence[1]))
      throw new Error(`${file}:${i + 1}: write shell as \`\`\`sh (or \`\`\`sh skip)`);
    if (fence[1] === 'sh') blocks.push({ file, line: i + 2, skip: fence[2].trim() === 'skip', lines: lines.slice(i + 1, end) });
    i = end;
  }
  return blocks;
}

/** The npm commands of a line: `npm start`, `npm test`, `npm run <script>` … (each must be a script of package.json). */
export function npmScripts(line: string): string[] {
  const code = line.replace(/\s#.*$/, '');
  const scripts: string[] = [];
  for (const match of code.matchAll(/\bnpm\s+(run\s+([\w:-]+)|start|test|install|ci)\b/g)) {
    if (match[2]) scripts.push(match[2]);
    else if (match[1] === 'start' || match[1] === 'test') scripts.push(match[1]);
  }
  return scripts;
}

/** Lines that are not run: they start a long-lived process or change the machine (npm, npx). */
export function isNpmLine(line: string): boolean {
  return /(^|\s|&&\s*)(npm|npx)\s/.test(line.replace(/\s#.*$/, ''));
}

/**
 * The lines of the command that starts at or spans `line` (continued with a trailing backslash), so a status written
 * in a comment anywhere on them counts.
 */
export function commandAround(lines: string[], index: number): string[] {
  let start = index;
  while (start > 0 && lines[start - 1].trimEnd().endsWith('\\')) start--;
  let end = index;
  while (end < lines.length - 1 && lines[end].trimEnd().endsWith('\\')) end++;
  return lines.slice(start, end + 1);
}
