// The rollout commands, one POST route each, as Temporal Updates through
// api/rollout-commands.ts. RBAC action names follow Argo CD's resource actions
// (`action/argoproj.io/Rollout/<command>` on the owning Application) or Sluice's
// `rollouts, update` for Rollouts no Application owns (api/rollout-access.ts).
import type { FastifyInstance } from 'fastify';
import type { CommandResult, RolloutRef } from '../../workflows/definitions';
import type { RouteDoc } from '../openapi';
import type { RolloutCommands } from '../rollout-commands';
import { refParams, type ApiContext } from '../context';

interface CommandRoute {
  path: string;
  summary: string;
  body?: object;
  /** The RBAC command name, from the request. */
  action(body: any): string;
  run(commands: RolloutCommands, ref: RolloutRef, body: any): Promise<CommandResult>;
}

const emptyBody = { type: ['object', 'null'], properties: {}, additionalProperties: false };

export const ROLLOUT_COMMANDS: CommandRoute[] = [
  {
    path: 'promote',
    summary: 'continue a paused rollout; full: skip the remaining steps and analyses',
    body: { type: ['object', 'null'], properties: { full: { type: 'boolean' } }, additionalProperties: false },
    action: (b) => (b?.full ? 'promote-full' : 'promote'),
    run: (c, ref, b) => c.promote(ref, b?.full ?? false),
  },
  { path: 'abort', summary: 'abort the update: back to the stable ReplicaSet', action: () => 'abort', run: (c, ref) => c.abort(ref) },
  { path: 'retry', summary: 'retry an aborted update', action: () => 'retry', run: (c, ref) => c.retry(ref) },
  {
    path: 'undo',
    summary: 'roll back to the previous revision, or to toRevision',
    body: { type: ['object', 'null'], properties: { toRevision: { type: 'integer', minimum: 1 } }, additionalProperties: false },
    action: () => 'undo',
    run: (c, ref, b) => c.undo(ref, b?.toRevision),
  },
  { path: 'restart', summary: 'restart the pods of the rollout', action: () => 'restart', run: (c, ref) => c.restart(ref) },
  { path: 'pause', summary: 'pause the rollout (spec.paused)', action: () => 'pause', run: (c, ref) => c.pause(ref) },
  { path: 'resume', summary: 'resume a rollout paused by pause', action: () => 'resume', run: (c, ref) => c.resume(ref) },
  {
    path: 'set-image',
    summary: 'set the image of one container of the pod template',
    body: {
      type: 'object',
      required: ['container', 'image'],
      properties: { container: { type: 'string', minLength: 1, maxLength: 253 }, image: { type: 'string', minLength: 1, maxLength: 1024 } },
      additionalProperties: false,
    },
    action: () => 'set-image',
    run: (c, ref, b) => c.setImage(ref, b.container, b.image),
  },
];

export function registerRolloutCommandRoutes(app: FastifyInstance, ctx: ApiContext): void {
  for (const cmd of ROLLOUT_COMMANDS) {
    app.post<{ Params: { namespace: string; name: string }; Body: any }>(
      `/api/v1/namespaces/:namespace/rollouts/:name/${cmd.path}`,
      { config: { summary: cmd.summary, tags: ['rollouts'] } satisfies RouteDoc, schema: { params: refParams, body: cmd.body ?? emptyBody } },
      async (req) => {
        const { namespace, name } = req.params;
        const ro = await ctx.rollout(req, namespace, name, cmd.action(req.body));
        ctx.authorize(req, ctx.rolloutCheck(ro, cmd.action(req.body)));
        return cmd.run(ctx.commands, { namespace, name }, req.body);
      },
    );
  }
}
