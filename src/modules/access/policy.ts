import { AppError } from '../../errors.js';

export type Role = 'admin' | 'agent' | 'viewer' | 'customer';

/** Who is asking. Every service call takes one; the policy below decides what it may do. */
export type Actor = {
  /** The user's id, or null for the system and anonymous callers. */
  id: string | null;
  name: string;
  role: Role;
  via: 'session' | 'token' | 'anonymous' | 'system';
  scope: 'read' | 'read-write';
  /** For a customer: the emails whose tickets they may see (lower case). */
  customerEmails: string[];
};

export const systemActor: Actor = {
  id: null,
  name: 'system',
  role: 'admin',
  via: 'system',
  scope: 'read-write',
  customerEmails: [],
};

export type Action =
  | 'ticket:read'
  | 'ticket:create'
  | 'ticket:update'
  | 'ticket:delete'
  | 'stage:read'
  | 'stage:write'
  | 'stage:delete';

/** Whether the actor may do the action at all (resource-level visibility is `canSeeTicket`). */
export function can(actor: Actor, action: Action): boolean {
  if (actor.scope === 'read' && !action.endsWith(':read')) return false;
  switch (actor.role) {
    case 'admin':
      return true;
    case 'agent':
      return true;
    case 'viewer':
      return action.endsWith(':read');
    case 'customer':
      return action === 'ticket:read' || action === 'ticket:create' || action === 'stage:read';
  }
}

export function assertCan(actor: Actor, action: Action): void {
  if (!can(actor, action)) throw new AppError('FORBIDDEN', `your role (${actor.role}) may not ${action.replace(':', ' ')}`);
}

/** A customer sees only their own customers' tickets; everybody else sees all. */
export function canSeeTicket(actor: Actor, ticket: { customer_email: string | null }): boolean {
  if (actor.role !== 'customer') return true;
  return ticket.customer_email !== null && actor.customerEmails.includes(ticket.customer_email.toLowerCase());
}

/** The restriction to put on every ticket query for this actor (null: none). */
export function ticketVisibility(actor: Actor): { customerEmails: string[] } | null {
  return actor.role === 'customer' ? { customerEmails: actor.customerEmails } : null;
}
