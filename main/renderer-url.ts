import { extname, join, normalize, sep } from 'node:path';
import type { RestoreTarget, WindowName } from '../preload/api.js';

/**
 * Our pages live at pullback://app/<page>.html, served from dist/renderer only (a custom
 * protocol rather than file://: ES modules need a real origin, and no other file is reachable).
 */
export const RENDERER_SCHEME = 'pullback';
export const RENDERER_ORIGIN = `${RENDERER_SCHEME}://app`;

/** `restore.html?host=…&snapshot=…`: a page and where it opens, relative to the origin. */
export function pagePath(name: WindowName, at?: RestoreTarget): string {
  if (!at) return `${name}.html`;
  const query = new URLSearchParams({
    host: at.host,
    ...(at.snapshot && { snapshot: at.snapshot }),
  });
  return `${name}.html?${query.toString()}`;
}

export function pageUrl(name: WindowName, at?: RestoreTarget): string {
  return `${RENDERER_ORIGIN}/${pagePath(name, at)}`;
}

/** IPC is answered only for frames showing one of our own pages. */
export function isOwnPage(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${RENDERER_SCHEME}:` && u.host === 'app';
  } catch {
    return false;
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The file behind a pullback://app/… URL, or undefined for anything outside dist/renderer. */
export function rendererFileFor(
  url: string,
  rendererDir: string,
): { file: string; mime: string } | undefined {
  if (!isOwnPage(url)) return undefined;
  const path = decodeURIComponent(new URL(url).pathname);
  const file = normalize(join(rendererDir, path));
  if (!file.startsWith(rendererDir + sep)) return undefined;
  const mime = MIME[extname(file)];
  return mime ? { file, mime } : undefined;
}
