import { PULLBACK_VERSION } from '../version.js';
import { PROTOCOL_VERSION } from './messages.js';
import type { ServeContext } from './serve-context.js';

/** `hello`: who the backup host thinks we are, and how many snapshots it holds for us. */
export async function serveHello(ctx: ServeContext): Promise<void> {
  const snapshots = await ctx.repo.listSnapshots();
  ctx.send({
    v: PROTOCOL_VERSION,
    type: 'welcome',
    client: ctx.client,
    serverVersion: PULLBACK_VERSION,
    snapshots: snapshots.length,
    ...(snapshots.length ? { lastSnapshot: snapshots[snapshots.length - 1]!.id } : {}),
  });
}
