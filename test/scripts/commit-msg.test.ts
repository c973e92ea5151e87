import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageProblems } from '../../scripts/commit-msg.js';

test('the commit-msg hook: subject at most 72 characters, then a blank line', () => {
  const cases: [string, number][] = [
    ['Short subject\n\nThe body says why (issue 21).\n', 0],
    ['Short subject\n', 0],
    [`${'x'.repeat(72)}\n`, 0],
    [`${'é'.repeat(72)}\n`, 0], // characters, not bytes
    [`${'x'.repeat(73)}\n`, 1],
    ['Subject\nrun on\n', 1],
    ['\n\n# only a comment\n', 1],
    ['# Please enter the commit message\nShort subject\n\nBody\n', 0],
    [`Merge branch '${'x'.repeat(80)}'\n`, 0],
    [`fixup! ${'x'.repeat(72)}\n`, 0],
  ];
  for (const [message, problems] of cases) assert.equal(messageProblems(message).length, problems, message);
});
