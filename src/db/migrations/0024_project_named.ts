import { sql, type Kysely } from 'kysely';

/**
 * "A ticket names its project by key, else by name" in one place: the SQL function `project_named`. The trigger
 * `tickets_resolve_project` (0002), the import's bulk insert (which writes with the row triggers off) and the create
 * path's workflow lookup (`ProjectsRepository.findWithDefinitionsNamed`) each wrote the rule out; now they call it.
 *
 * The parameter is `ticket_project`, not `name`: inside a SQL function a parameter named like a column of a table
 * the body reads (`projects.name`) is shadowed by that column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function project_named(ticket_project text) returns text language sql stable parallel safe as $$
      select p.id from projects p
      where p.key = ticket_project or p.name = ticket_project
      order by p.key = ticket_project desc
      limit 1
    $$`.execute(db);
  await sql`
    create or replace function tickets_resolve_project() returns trigger language plpgsql as $$
    begin
      new.project_id := project_named(new.project);
      return new;
    end $$`.execute(db);
}
