import { makeHandler, type ReplayHandlerDeps } from '../../../services/replay/handler.js';
import { lakeStore } from './lake.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';

/** replay's composition root: the lake alone. */
export const replayDeps = (env: AwsFunctionEnv): ReplayHandlerDeps => ({ store: lakeStore(env) });

/** The Lambda entry point (serverless.yml: replay). */
export const handler = lambdaEntry(() => makeHandler(replayDeps(lambdaEnv())));
