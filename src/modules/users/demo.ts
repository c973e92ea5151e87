import type { FastifyBaseLogger } from 'fastify';
import type { Role } from '../access/policy.js';
import { systemActor } from '../access/policy.js';
import type { UsersService } from './service.js';

/** One user per role for `npm run demo` (the first is the demo's first admin); printed at start. Never use them outside a demo. */
export const demoUsers: { email: string; password: string; role: Role; name: string }[] = [
  { email: 'admin@demo.stageline.local', password: 'demo-admin-password', role: 'admin', name: 'Demo Admin' },
  { email: 'agent@demo.stageline.local', password: 'demo-agent-password', role: 'agent', name: 'Demo Agent' },
  { email: 'viewer@demo.stageline.local', password: 'demo-viewer-password', role: 'viewer', name: 'Demo Viewer' },
  { email: 'customer@demo.stageline.local', password: 'demo-customer-password', role: 'customer', name: 'Demo Customer' },
];

/**
 * Creates the demo users that do not exist yet. `customerEmails`: the demo customers whose tickets the demo
 * customer sees (pick one or two from the generated demo data).
 */
export async function createDemoUsers(users: UsersService, log: FastifyBaseLogger, customerEmails: string[] = []): Promise<void> {
  const existing = new Set((await users.list(systemActor, { q: '@demo.stageline.local', limit: 100 })).items.map((user) => user.email));
  for (const demo of demoUsers) {
    if (existing.has(demo.email)) continue;
    await users.create(systemActor, {
      email: demo.email,
      name: demo.name,
      role: demo.role,
      password: demo.password,
      ...(demo.role === 'customer' && customerEmails.length > 0 ? { customer_emails: customerEmails } : {}),
    });
  }
  log.info({ users: demoUsers.map(({ email, role }) => ({ email, role })) }, 'demo users ready (passwords: docs/getting-started.md)');
}
