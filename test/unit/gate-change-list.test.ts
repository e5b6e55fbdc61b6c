import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSenderCommand } from '../../core/gate/validate.js';
import { validateFileList } from '../../core/change-index/list-file.js';
import { encodeFileList } from '../../core/change-index/compare.js';

const TREE = '/home/u/docs';
const listed = (options: string) => `rsync --server --sender ${options} . ${TREE}/`;

test('S3: the gate takes "use the list" (--files-from pullback-list --from0) and removes it from the options', () => {
  const r = validateSenderCommand(
    listed('-lHogDtpAXIRSe.LsfxCIvu --numeric-ids --files-from pullback-list --from0'),
    [TREE],
  );
  assert.equal(r.listed, true);
  assert.equal(r.tree, TREE);
  assert.deepEqual(r.options, ['-lHogDtpAXIRSe.LsfxCIvu', '--numeric-ids']);
});

test('S3: the gate refuses every other way to name a list', () => {
  for (const options of [
    '-logDtpRe.LsfxCIvu --files-from=- --from0',
    '-logDtpRe.LsfxCIvu --files-from /etc/passwd',
    '-logDtpRe.LsfxCIvu --files-from=pullback-list --from0',
    '-logDtpRe.LsfxCIvu --files-from pullback-list',
    '-logDtpRe.LsfxCIvu --files-from pullback-list --from0 --files-from pullback-list',
    '-logDtpRe.LsfxCIvu --files-from pullback-list --from0 --from0',
    '-logDtpe.LsfxCIvu --from0',
    '-logDtpRe.LsfxCIvu',
    '-logDtpe.LsfxCIvu --include-from=/etc/passwd',
  ]) {
    assert.throws(
      () => validateSenderCommand(listed(options), [TREE]),
      (e: unknown) => (e as { code?: string }).code === 'REFUSED',
      options,
    );
  }
});

test('S3: a change list holds only names below the tree', () => {
  assert.deepEqual(validateFileList(encodeFileList(['.', 'a', 'a/b c', 'd/e\nf'])), [
    '.',
    'a',
    'a/b c',
    'd/e\nf',
  ]);
  for (const bad of [['../x'], ['/etc/passwd'], ['a//b'], ['a/./b'], ['a/..'], [''], ['./a']])
    assert.throws(() => validateFileList(encodeFileList(bad)), /file list/, JSON.stringify(bad));
  assert.throws(() => validateFileList(Buffer.from('a')), /NUL/);
  assert.throws(() => validateFileList(Buffer.alloc(0)), /empty/);
});
