/**
 * The artifacts configuration as one zod schema, for library callers (src/low-level.ts): the rules of
 * ./fields-zod.ts by row of src/options/artifacts.ts, then the cross-field checks. The CLI uses
 * checkArtifactsConfig (./config.ts), the same without zod; config.test.ts compares the two.
 */
import { z } from 'zod';
import { crossFieldIssues, type ArtifactsConfig } from './config.js';
import { ZOD_FIELDS as F } from './fields-zod.js';

export const ArtifactsConfigSchema = z
  .object({
    sshKeys: z.array(F.sshKey).transform((keys) => [...new Set(keys)]),
    hostname: F.hostname,
    username: F.username,
    password: F.password.optional(),
    passwordHash: F.passwordHash.optional(),
    autoInstallKubesolo: F.bool,
    kubesoloVersion: F.version,
    kubesoloUrl: F.kubesoloUrl.optional(),
    apkRepositories: z.array(F.apkRepository),
    arch: F.arch,
    outputDir: F.path,
    createIso: F.bool,
    templateDir: F.path.optional(),
    instanceId: F.instanceId.optional(),
    apiAddresses: z.array(F.apiAddress),
    ip: F.cidr.optional(),
    gateway: F.ip.optional(),
    dns: z.array(F.ip),
    interface: F.interface,
    defaultPassword: z.boolean(),
    sshKeySources: z.array(z.string()),
  })
  .superRefine((c, ctx) => {
    for (const i of crossFieldIssues(c as ArtifactsConfig)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });
