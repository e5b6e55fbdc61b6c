import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { RENDERER_DIR } from './app-paths.js';
import { CONTENT_SECURITY_POLICY, RENDERER_SCHEME, rendererFileFor } from './renderer-url.js';

/** Must run before the app is ready: pullback:// behaves like https (origin, modules, CSP). */
export function registerRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: RENDERER_SCHEME, privileges: { standard: true, secure: true } },
  ]);
}

/** Serves dist/renderer, and nothing else, with the CSP as a header too. */
export function serveRenderer(): void {
  protocol.handle(RENDERER_SCHEME, async (request) => {
    const target = rendererFileFor(request.url, RENDERER_DIR);
    if (!target) return new Response('not found', { status: 404 });
    try {
      return new Response(await readFile(target.file), {
        headers: {
          'content-type': target.mime,
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
        },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
