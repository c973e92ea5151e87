import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may point. An admin-supplied URL is fetched by the server, so unless private targets are
 * allowed it must not reach loopback, private, link-local, shared (CGNAT), multicast or reserved addresses:
 * the server's own network is not the admin's to probe (SSRF).
 */

/** Why the URL is not acceptable, or null when it is. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  // The list shows the URL to every admin: credentials in it would be on display.
  if (url.username || url.password) return 'must not contain a user name or password (the signature authenticates each call)';
  if (url.hash) return 'must not contain a #fragment';
  if (allowPrivate) return null;
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost'))
    return 'must not point at this machine (set WEBHOOK_ALLOW_PRIVATE=true to allow)';
  if (ipaddr.isValid(host) && !isPublicAddress(host)) {
    return 'must not point at a loopback, private or reserved address (set WEBHOOK_ALLOW_PRIVATE=true to allow)';
  }
  return null;
}

/** The URL's host without IPv6 brackets or a trailing dot. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Only ordinary unicast addresses are public; IPv4-mapped IPv6 is judged as the IPv4 address it carries. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class BlockedAddressError extends Error {
  readonly code = 'WEBHOOK_BLOCKED_ADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` for outgoing connections that refuses names resolving to non-public addresses. Checking the
 * address actually connected to (not the one seen when the hook was saved) also defeats DNS rebinding.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((entry) => !isPublicAddress(entry.address));
    if (blocked) {
      return callback(new BlockedAddressError(`${hostname} resolves to ${blocked.address}, which is not a public address`), []);
    }
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}
