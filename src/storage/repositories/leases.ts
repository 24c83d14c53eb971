/** Named leases: one holder at a time across processes (e.g. the one long-poller of a bot). */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** Takes or renews the lease; true when `owner` holds it until `now + ttlMs`. */
export async function acquireLease(db: Kysely<Database>, name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
  const res = await db
    .insertInto('leases')
    .values({ name, owner, until: now + ttlMs })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ owner, until: now + ttlMs })
        .where((eb) => eb.or([eb('leases.until', '<', now), eb('leases.owner', '=', owner)])),
    )
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function releaseLease(db: Kysely<Database>, name: string, owner: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
}

export async function leaseHolder(db: Kysely<Database>, name: string): Promise<{ owner: string; until: number } | undefined> {
  return db.selectFrom('leases').select(['owner', 'until']).where('name', '=', name).executeTakeFirst();
}
