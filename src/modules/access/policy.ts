import { userRoles, type UserRole } from '../../db/enums.js';
import { AppError } from '../../errors.js';

export type Role = UserRole;
export const roles = userRoles;

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
  /** The caller's address, for the audit log (absent for the system). */
  ip?: string;
  /** A WAL position the caller has seen (the `Stageline-LSN` header): its reads come from a replica past it. */
  readAfter?: string;
};

export const systemActor: Actor = {
  id: null,
  name: 'system',
  role: 'admin',
  via: 'system',
  scope: 'read-write',
  customerEmails: [],
};

/**
 * The actor of a request that carries no credentials. On public routes it is a customer of nobody with
 * read scope (it can see nothing); on the older systems' routes `ANONYMOUS_ROLE` gives it a real role.
 */
export function anonymousActor(role: Role = 'customer', ip?: string): Actor {
  return {
    id: null,
    name: 'anonymous',
    role,
    via: 'anonymous',
    scope: role === 'customer' || role === 'viewer' ? 'read' : 'read-write',
    customerEmails: [],
    ...(ip === undefined ? {} : { ip }),
  };
}

/** Everything a route or service may ask about. Add yours here and, unless everybody may, to a set below. */
export const actions = [
  'ticket:read',
  'ticket:create',
  'ticket:update',
  'ticket:delete',
  'ticket:comment',
  'stage:read',
  'stage:write',
  'stage:delete',
  'ops:read',
  'ops:send',
  'metrics:read',
  /** One's own account: profile, own API tokens. */
  'account:read',
  'account:write',
  'user:read',
  'user:manage',
  'audit:read',
  /** Workflows (issue 4): projects are read by everybody signed in but customers, written by admins. */
  'project:read',
  'project:write',
  'ticket:transition',
  'monitor:read',
  'events:read',
  /** Bulk import of tickets with their stage history (issue 8): admins only. */
  'ticket:import',
  /** Saved views (issue 13): everybody signed in keeps their own; sharing with everyone is for agents and admins. */
  'view:read',
  'view:write',
  'view:share',
  /** Outgoing webhooks: admins only (they receive every event, internal ones included). */
  'webhook:read',
  'webhook:manage',
  /** Adding or removing other people as watchers of a ticket (watching oneself is `account:write`). */
  'ticket:watchers',
  /** The log of every notification mail, with its body and the SMTP server's answers: admins only. */
  'mail:read',
  /**
   * A ticket's internal side (issue 21): the fields the ticket field table marks internal (assignee, metadata),
   * internal history and comments, custom fields not marked for customers, other watchers. Everybody but customers.
   */
  'internal:read',
] as const;
export type Action = (typeof actions)[number];

/** Reads end in `:read`: a read-only token and a viewer may do exactly these (minus the admin-only ones). */
export function isRead(action: Action): boolean {
  return action.endsWith(':read');
}

/** Only admins: users, the audit log, settings. */
const adminOnly: ReadonlySet<Action> = new Set<Action>([
  'user:read',
  'user:manage',
  'audit:read',
  'project:write',
  'ticket:import',
  'webhook:read',
  'webhook:manage',
  'mail:read',
]);

/** Everything a customer may do; visibility of each ticket is `canSeeTicket` / `ticketVisibility`. */
const customerMay: ReadonlySet<Action> = new Set<Action>([
  'ticket:read',
  'ticket:create',
  'ticket:comment',
  'stage:read',
  'account:read',
  'account:write',
  'view:read',
  'view:write',
]);

/** Whether the actor may do the action at all (resource-level visibility is `canSeeTicket`). */
export function can(actor: Actor, action: Action): boolean {
  if (actor.scope === 'read' && !isRead(action)) return false;
  switch (actor.role) {
    case 'admin':
      return true;
    case 'agent':
      return !adminOnly.has(action);
    case 'viewer':
      return (isRead(action) || action === 'account:write' || action === 'view:write') && !adminOnly.has(action);
    case 'customer':
      return customerMay.has(action);
  }
}

/** Every action the actor may do, in declaration order: what `GET /api/me` answers as `abilities`. */
export function abilitiesOf(actor: Actor): Action[] {
  return actions.filter((action) => can(actor, action));
}

export function assertCan(actor: Actor, action: Action): void {
  if (!can(actor, action)) {
    const why = actor.scope === 'read' && !isRead(action) ? 'a read-only token' : `your role (${actor.role})`;
    throw new AppError('FORBIDDEN', `${why} may not ${action.replace(':', ' ')}`);
  }
}

/**
 * Whether the actor sees a ticket's internal side (`internal:read`): the one answer to "customers don't see internal
 * fields", asked by every presenter, export, history and field filter, and served to the dashboard by `GET /api/me`.
 */
export function seesInternal(actor: Actor): boolean {
  return can(actor, 'internal:read');
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

/** A saved view is seen by its owner, and by everybody once shared. */
export function canSeeView(actor: Actor, view: { owner_id: string; shared: boolean }): boolean {
  return view.shared || (actor.id !== null && view.owner_id === actor.id);
}

/** Only its owner changes a view; an admin may also change or remove a shared one (served as a view's `changeable`). */
export function canChangeView(actor: Actor, view: { owner_id: string; shared: boolean }): boolean {
  if (!can(actor, 'view:write')) return false;
  return (actor.id !== null && view.owner_id === actor.id) || (view.shared && actor.role === 'admin');
}

export function assertCanChangeView(actor: Actor, view: { owner_id: string; shared: boolean }): void {
  assertCan(actor, 'view:write');
  if (!canChangeView(actor, view)) throw new AppError('FORBIDDEN', 'only the owner of this view may change it');
}
