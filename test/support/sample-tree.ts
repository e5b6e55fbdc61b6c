import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  writeFileSync,
  linkSync,
  symlinkSync,
  chmodSync,
  openSync,
  ftruncateSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * A tree with everything a backup must keep: hardlinks, symlinks (one dangling), a sparse
 * file, xattrs, an ACL, a fifo, 0600 files, names with spaces, newlines, a leading dash and
 * invalid UTF-8.
 */
export function makeHostileTree(root: string): void {
  mkdirSync(join(root, 'docs', 'deep', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'docs', 'report.txt'), 'quarterly numbers\n'.repeat(100));
  writeFileSync(join(root, 'docs', 'deep', 'deeper', 'leaf.bin'), Buffer.alloc(70_000, 3));
  linkSync(join(root, 'docs', 'report.txt'), join(root, 'docs', 'report-hardlink.txt'));
  symlinkSync('docs/report.txt', join(root, 'link-to-report'));
  symlinkSync('does/not/exist', join(root, 'dangling-link'));
  // sparse: 8 MiB apparent size, two small written regions
  const fd = openSync(join(root, 'sparse.img'), 'w');
  ftruncateSync(fd, 8 * 1024 * 1024);
  writeSync(fd, Buffer.from('start'), 0, 5, 0);
  writeSync(fd, Buffer.from('end'), 0, 3, 8 * 1024 * 1024 - 3);
  closeSync(fd);
  writeFileSync(join(root, 'secret.key'), 'private\n', { mode: 0o600 });
  chmodSync(join(root, 'secret.key'), 0o600);
  writeFileSync(join(root, 'name with spaces.txt'), 'spaces\n');
  writeFileSync(join(root, 'name\nwith newline.txt'), 'newline\n');
  writeFileSync(join(root, '-leading-dash.txt'), 'dash\n');
  writeFileSync(
    Buffer.concat([
      Buffer.from(join(root, 'bad-utf8-')),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from('.txt'),
    ]),
    'latin1\n',
  );
  writeFileSync(join(root, 'with-xattr.txt'), 'xattr\n');
  run('setfattr', ['-n', 'user.pullback.test', '-v', 'hello', join(root, 'with-xattr.txt')]);
  writeFileSync(join(root, 'with-acl.txt'), 'acl\n');
  run('setfacl', ['-m', 'u:nobody:r', join(root, 'with-acl.txt')]);
  run('mkfifo', [join(root, 'a-fifo')]);
  chmodSync(join(root, 'docs', 'deep'), 0o750);
}
