import type { Pool, PoolClient } from 'pg';
import { InjectPool } from './db.module';

/** Something to run a query on: the pool, or one client inside a transaction. */
export type Queryable = Pick<Pool, 'query'> | PoolClient;

/**
 * A named query: Postgres parses and plans it once per connection instead of on every
 * call (about a millisecond saved per statement on the hot path).
 */
export function prepared(name: string, text: string, values: unknown[]) {
  return { name, text, values };
}

/**
 * The base of every repository, the one kind of class that runs SQL (services hold the
 * logic and the transactions). A repository is injected on the pool (subclasses declare no
 * constructor: Nest injects through this one); `Repository.on(client)` gives the same
 * repository on one client, for writes that share a transaction.
 */
export abstract class Repository {
  constructor(@InjectPool() protected readonly db: Queryable) {}

  static on<T extends Repository>(this: new (db: Queryable) => T, client: Queryable): T {
    return new this(client);
  }
}
