import { migrate } from '@danube/db';
import { runMain } from '@danube/lifecycle';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and says which. */
runMain('danube migrate', async () => {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error('DATABASE_URL is required (e.g. postgres://user:pass@localhost:5432/danube)');
  const applied = await migrate({ databaseUrl });
  process.stdout.write(
    applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'already up to date\n',
  );
});
