import type { StoreAccess } from './recording-store.js';
import type { TemplateResource } from './serverless-template.js';

type Json = Record<string, unknown>;

/** How infra/*.yml spell the lake bucket's name (a reference to the bucket would be a cycle). */
const lakeBucketName = '${AWS::StackName}-lake-${AWS::AccountId}-${AWS::Region}';
const lakeArn = 'arn:aws:s3:::LAKE';

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A statement's resource as an ARN pattern of the lake, or undefined when it is not the lake's. */
const lakePattern = (resource: unknown): string | undefined => {
  if (typeof resource === 'string') return resource === '*' ? '*' : undefined;
  const sub = (resource as Json | undefined)?.['Fn::Sub'];
  if (typeof sub === 'string' && sub.includes(lakeBucketName)) {
    return sub.replaceAll('${AWS::Partition}', 'aws').replaceAll(lakeBucketName, 'LAKE');
  }
  return undefined;
};

/** IAM's wildcards: `*` any run of characters (`/` included), `?` one. */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

/**
 * Whether an IAM role of the compiled template allows a request of the lake: an Allow statement
 * naming the action, whose resource matches the object (or, for s3:ListBucket, the bucket, with
 * its `s3:prefix` condition if it has one). The roles have no Deny statements; the template test
 * holds them to Allow with named resources.
 */
export const roleAllows = (role: TemplateResource, access: StoreAccess): boolean => {
  const statements = ((role.Properties.Policies ?? []) as Json[]).flatMap(
    (policy) => ((policy.PolicyDocument as Json).Statement as Json[]) ?? [],
  );
  const target = access.action === 's3:ListBucket' ? lakeArn : `${lakeArn}/${access.key}`;
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    if (!asArray(statement.Action as string | string[]).includes(access.action)) return false;
    const resources = asArray(statement.Resource as unknown).map(lakePattern);
    if (!resources.some((pattern) => pattern !== undefined && matches(pattern, target))) return false;
    if (access.action !== 's3:ListBucket') return true;
    const prefixes = asArray(
      ((statement.Condition as Json | undefined)?.StringLike as Json | undefined)?.['s3:prefix'] as
        string | string[] | undefined,
    );
    return prefixes.length === 0 || prefixes.some((pattern) => matches(pattern, access.key));
  });
};
