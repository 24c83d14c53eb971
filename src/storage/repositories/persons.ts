/** Persons and their identities. */
import type { Kysely } from 'kysely';
import type { Identity, Person, Sender } from '../../core/model.ts';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

/** Finds the person behind (platform, user id), creating person and identity on first contact. */
export async function upsertIdentity(db: Db, platform: string, sender: Sender, now: number): Promise<number> {
  const existing = await db
    .selectFrom('identities')
    .select('person_id')
    .where('platform', '=', platform)
    .where('platform_user_id', '=', sender.platformUserId)
    .executeTakeFirst();
  if (existing) return existing.person_id;
  const person = await db
    .insertInto('persons')
    .values({ name: sender.name ?? null, language: sender.language ?? null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const inserted = await db
    .insertInto('identities')
    .values({
      person_id: person.id,
      platform,
      platform_user_id: sender.platformUserId,
      username: sender.username ?? null,
      unreachable: null,
      unreachable_at: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['platform', 'platform_user_id']).doNothing())
    .returning('person_id')
    .executeTakeFirst();
  if (inserted) return inserted.person_id;
  // Another writer created the identity first: use theirs, drop our orphan person.
  await db.deleteFrom('persons').where('id', '=', person.id).execute();
  const winner = await db
    .selectFrom('identities')
    .select('person_id')
    .where('platform', '=', platform)
    .where('platform_user_id', '=', sender.platformUserId)
    .executeTakeFirstOrThrow();
  return winner.person_id;
}

export async function loadPerson(db: Db, personId: number): Promise<Person> {
  const row = await db.selectFrom('persons').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
  const ids = await db.selectFrom('identities').selectAll().where('person_id', '=', personId).orderBy('id').execute();
  const identities: Identity[] = ids.map((i) => ({
    platform: i.platform,
    platformUserId: i.platform_user_id,
    username: i.username ?? undefined,
    unreachable: i.unreachable,
  }));
  return { id: row.id, name: row.name, language: row.language, identities };
}

export async function updatePerson(
  db: Db,
  personId: number,
  changes: { name?: string | null; language?: string | null },
  now: number,
): Promise<void> {
  const values: { name?: string | null; language?: string | null; updated_at: number } = { updated_at: now };
  if (changes.name !== undefined) values.name = changes.name;
  if (changes.language !== undefined) values.language = changes.language;
  await db.updateTable('persons').set(values).where('id', '=', personId).execute();
}

/** Marks an identity unreachable (blocked the bot, 901, 551...) or reachable again (`null`). */
export async function setUnreachable(
  db: Db,
  platform: string,
  platformUserId: string,
  reason: string | null,
  now: number,
): Promise<void> {
  await db
    .updateTable('identities')
    .set({ unreachable: reason, unreachable_at: reason ? now : null })
    .where('platform', '=', platform)
    .where('platform_user_id', '=', platformUserId)
    .execute();
}
