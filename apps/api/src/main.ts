import { migrate } from '@danube/db';
import { closeOnSignals, runMain } from '@danube/lifecycle';
import { loadApiOptions } from './api.config';
import { ApiModule } from './api.module';
import { createApiApp, listenApi } from './create-api-app';

runMain('danube-api', async () => {
  const options = loadApiOptions();
  if (process.env.DANUBE_MIGRATE !== 'false') await migrate({ databaseUrl: options.databaseUrl });
  const app = await createApiApp(ApiModule.forRoot(options), options);
  await listenApi(app, options);
  closeOnSignals(app);
});
