import { actions } from '../access/policy.js';
import { Type } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { User } from '../users/schemas.js';

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

export const LoginResult = Type.Object({
  user: User,
  csrf_token: Type.String({
    description: 'Send as the X-CSRF-Token header with every change made with the session cookie',
  }),
  expires_at: DateTime('When the session ends at the latest (it also ends after a while without use)'),
});

export const Me = Type.Object({
  user: User,
  via: Type.Enum(['session', 'token']),
  scope: Type.Enum(['read', 'read-write']),
  abilities: Type.Array(Type.Enum([...actions]), {
    description:
      'Every action this sign-in may do (role and token scope), decided by the one permission policy: show a control only when its action is here. A ticket a customer may not see is still 404 on its own.',
  }),
});

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({
    description: 'The first characters of the token, to tell tokens apart',
  }),
  user_id: Type.String(),
  scope: Type.Enum(['read', 'read-write']),
  expires_at: Nullable(DateTime()),
  last_used_at: Nullable(DateTime()),
  revoked_at: Nullable(DateTime()),
  created_by: Nullable(Type.String()),
  created_at: DateTime(),
});

export const CreatedApiToken = Type.Object({
  ...ApiToken.properties,
  token: Type.String({
    description: 'The token itself: shown only in this answer, stored only as a hash',
  }),
});

export const TokenCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scope: Type.Optional(Type.Enum(['read', 'read-write'], { default: 'read-write' })),
    expires_at: Type.Optional(DateTime('Optional end of validity (in the future)')),
    user_id: Type.Optional(
      Type.String({
        maxLength: 100,
        description: "Admins only: another user's token",
      }),
    ),
  },
  { additionalProperties: false },
);

export const TokenListQuery = Type.Object(
  {
    user_id: Type.Optional(
      Type.String({
        maxLength: 100,
        description: "Admins only: another user's tokens",
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
