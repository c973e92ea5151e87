import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { roles } from '../access/policy.js';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({
  minLength: 10,
  maxLength: 256,
  description: '10 to 256 characters',
});
const Role = Type.Enum([...roles], {
  description: 'admin: everything · agent: tickets, stages, OPS · viewer: read everything · customer: own tickets only',
});
const CustomerEmails = Type.Array(Email, {
  maxItems: 100,
  description: "For a customer: the customers' emails whose tickets they see (defaults to their own email)",
});

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Role,
  customer_emails: Type.Array(Type.String()),
  disabled: Type.Boolean(),
  disabled_at: Nullable(DateTime()),
  last_login_at: Nullable(DateTime()),
  created_at: DateTime(),
  updated_at: DateTime(),
  version: Type.Integer(),
});

export const UserCreate = Type.Object(
  {
    email: Email,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Role,
    password: Type.Optional(Password),
    customer_emails: Type.Optional(CustomerEmails),
  },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;

export const UserPatch = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(Role),
    password: Type.Optional(Nullable(Password)),
    customer_emails: Type.Optional(CustomerEmails),
    disabled: Type.Optional(
      Type.Boolean({
        description: 'Disabling ends the sessions and revokes the tokens at once',
      }),
    ),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type UserPatch = Static<typeof UserPatch>;

export const UserListQuery = Type.Object(
  {
    role: Type.Optional(Role),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the email or name' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
