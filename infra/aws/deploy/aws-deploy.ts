import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import * as z from 'zod';
import { awsError, awsErrorName } from '../../adapters/aws/aws-errors.js';
import { ConfigError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { AwsClientSettings } from '../cli/aws-clients.js';
import type { DeployAws, RegistryLogin } from './ports.js';

const identitySchema = z.object({ Account: z.string().regex(/^\d{12}$/), Arn: z.string().min(1) });

const zonesSchema = z.object({
  AvailabilityZones: z.array(z.object({ ZoneName: z.string().min(1), ZoneId: z.string().min(1) })),
});

const repositoriesSchema = z.object({
  repositories: z.array(z.object({ repositoryUri: z.string().min(1) })).min(1),
});

const imagesSchema = z.object({
  imageDetails: z.array(z.object({ imageTags: z.array(z.string()).optional() })).default([]),
});

const tokenSchema = z.object({
  authorizationData: z
    .array(z.object({ authorizationToken: z.string().min(1), proxyEndpoint: z.string().min(1) }))
    .min(1),
});

const noCredentials = new Set(['CredentialsProviderError', 'ExpiredToken', 'ExpiredTokenException']);

/** An AWS call, its failure said as one of chartflow's errors; missing credentials say how to give them. */
const call = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
  try {
    return await send();
  } catch (error) {
    if (noCredentials.has(awsErrorName(error) ?? '')) {
      throw new ConfigError(
        `${what}: no usable AWS credentials (${awsErrorName(error)}): set AWS_PROFILE (and run aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
        { cause: error },
      );
    }
    throw awsError(what, error);
  }
};

/**
 * The deploy's AWS calls through the SDK v3, each answer parsed before use. Credentials are the
 * SDK's default chain (AWS_PROFILE, the environment, SSO); `settings` points the clients elsewhere
 * (moto, in the tests).
 */
export const openDeployAws = (
  region: string,
  settings: AwsClientSettings = {},
): DeployAws & { destroy(): void } => {
  const config = { ...settings, region };
  const sts = new STSClient(config);
  const ec2 = new EC2Client(config);
  const ecr = new ECRClient(config);
  return {
    callerIdentity: async () => {
      const what = 'STS GetCallerIdentity';
      const answer = parseOrThrow(
        identitySchema,
        await call(what, () => sts.send(new GetCallerIdentityCommand({}))),
        what,
      );
      return { account: answer.Account, arn: answer.Arn };
    },
    availabilityZones: async () => {
      const what = `EC2 DescribeAvailabilityZones in ${region}`;
      const answer = await call(what, () =>
        ec2.send(
          new DescribeAvailabilityZonesCommand({
            Filters: [
              { Name: 'state', Values: ['available'] },
              { Name: 'zone-type', Values: ['availability-zone'] },
            ],
          }),
        ),
      );
      return parseOrThrow(zonesSchema, answer, what).AvailabilityZones.map((z) => ({
        name: z.ZoneName,
        id: z.ZoneId,
      }));
    },
    repositoryUri: async (repository) => {
      const what = `ECR DescribeRepositories ${repository}`;
      try {
        const answer = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repository] }));
        return parseOrThrow(repositoriesSchema, answer, what).repositories[0]!.repositoryUri;
      } catch (error) {
        if (awsErrorName(error) === 'RepositoryNotFoundException') return undefined;
        return call(what, () => Promise.reject(error));
      }
    },
    imageExists: async (repository, tag) => {
      const what = `ECR DescribeImages ${repository}:${tag}`;
      try {
        const answer = await ecr.send(
          new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
        );
        return parseOrThrow(imagesSchema, answer, what).imageDetails.some((d) => d.imageTags?.includes(tag));
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') return false;
        return call(what, () => Promise.reject(error));
      }
    },
    registryLogin: async () => {
      const what = 'ECR GetAuthorizationToken';
      const answer = await call(what, () => ecr.send(new GetAuthorizationTokenCommand({})));
      return registryLogin(parseOrThrow(tokenSchema, answer, what).authorizationData[0]!);
    },
    destroy: () => {
      sts.destroy();
      ec2.destroy();
      ecr.destroy();
    },
  };
};

/** ECR's token is base64 of `user:password`; the registry is its endpoint's host. */
const registryLogin = (data: { authorizationToken: string; proxyEndpoint: string }): RegistryLogin => {
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new ConfigError('ECR GetAuthorizationToken: the token is not base64 of user:password');
  }
  return {
    registry: data.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, ''),
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  };
};
