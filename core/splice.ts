import type { Duplex } from 'node:stream';

/**
 * Joins two byte streams both ways (`restOfA`: bytes already read from `a`, owed to `b`) and
 * resolves once either has closed. That end closing ends the other gracefully (what it still
 * has to write is flushed), without waiting for its peer to close too (a client keeps its
 * side of the handoff open); an error destroys both: a tunnel is one connection, and half of
 * one is none.
 */
export function splice(a: Duplex, b: Duplex, restOfA?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const closed = (other: Duplex) => () => {
      other.end();
      resolve();
    };
    const broken = () => {
      a.destroy();
      b.destroy();
    };
    a.once('close', closed(b));
    b.once('close', closed(a));
    a.on('error', broken);
    b.on('error', broken);
    if (restOfA?.length) b.write(restOfA);
    a.pipe(b);
    b.pipe(a);
  });
}
