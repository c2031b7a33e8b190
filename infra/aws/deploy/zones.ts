import { ConfigError } from '../../../shared/errors.js';

/**
 * The Availability Zone IDs where Redshift Serverless places a workgroup, per region, from AWS's
 * "Considerations when using Amazon Redshift Serverless" (section "Availability Zone IDs"):
 * https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-usage-considerations.html
 * A workgroup needs subnets in three of them. The IDs here were written down from that page but not
 * yet compared with it line by line when this table was made (2026-12): compare them before relying
 * on a region whose supported zones are few. AWS adds zones and regions over time: a region or a
 * zone missing here can still be used by naming the zones (`--param subnetAzIdA=…`, docs/aws.md,
 * "npm run deploy"), which the deploy checks against the account's zones instead.
 */
export const redshiftServerlessZoneIds: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az5', 'use1-az6'],
  'us-east-2': ['use2-az1', 'use2-az2', 'use2-az3'],
  // Three subnets in two zones, which the stack's three subnets in three zones cannot be.
  'us-west-1': ['usw1-az1', 'usw1-az3'],
  'us-west-2': ['usw2-az1', 'usw2-az2', 'usw2-az3', 'usw2-az4'],
  'af-south-1': ['afs1-az1', 'afs1-az2', 'afs1-az3'],
  'ap-east-1': ['ape1-az1', 'ape1-az2', 'ape1-az3'],
  'ap-south-1': ['aps1-az1', 'aps1-az2', 'aps1-az3'],
  'ap-south-2': ['aps2-az1', 'aps2-az2', 'aps2-az3'],
  'ap-southeast-1': ['apse1-az1', 'apse1-az2', 'apse1-az3'],
  'ap-southeast-2': ['apse2-az1', 'apse2-az2', 'apse2-az3'],
  'ap-southeast-3': ['apse3-az1', 'apse3-az2', 'apse3-az3'],
  'ap-southeast-4': ['apse4-az1', 'apse4-az2', 'apse4-az3'],
  'ap-northeast-1': ['apne1-az1', 'apne1-az2', 'apne1-az4'],
  'ap-northeast-2': ['apne2-az1', 'apne2-az2', 'apne2-az3', 'apne2-az4'],
  'ap-northeast-3': ['apne3-az1', 'apne3-az2', 'apne3-az3'],
  'ca-central-1': ['cac1-az1', 'cac1-az2', 'cac1-az4'],
  'eu-central-1': ['euc1-az1', 'euc1-az2', 'euc1-az3'],
  'eu-central-2': ['euc2-az1', 'euc2-az2', 'euc2-az3'],
  'eu-west-1': ['euw1-az1', 'euw1-az2', 'euw1-az3'],
  'eu-west-2': ['euw2-az1', 'euw2-az2', 'euw2-az3'],
  'eu-west-3': ['euw3-az1', 'euw3-az2', 'euw3-az3'],
  'eu-north-1': ['eun1-az1', 'eun1-az2', 'eun1-az3'],
  'eu-south-1': ['eus1-az1', 'eus1-az2', 'eus1-az3'],
  'eu-south-2': ['eus2-az1', 'eus2-az2', 'eus2-az3'],
  'me-south-1': ['mes1-az1', 'mes1-az2', 'mes1-az3'],
  'me-central-1': ['mec1-az1', 'mec1-az2', 'mec1-az3'],
  'sa-east-1': ['sae1-az1', 'sae1-az2', 'sae1-az3'],
};

/** The serverless.yml params that place the three private subnets, by AZ ID. */
export const subnetParams = ['subnetAzIdA', 'subnetAzIdB', 'subnetAzIdC'] as const;
export type SubnetParam = (typeof subnetParams)[number];

/** A zone of the region as EC2 DescribeAvailabilityZones names it in this account. */
export interface Zone {
  readonly name: string;
  readonly id: string;
}

/** The three zone IDs chosen, and what the user should know about the choice. */
export interface ZoneChoice {
  readonly ids: readonly [string, string, string];
  readonly notes: readonly string[];
}

const zoneIdPattern = /^[a-z]{2,5}\d-az\d{1,2}$/;

/**
 * The three AZ IDs of the stack's subnets: those given as params, the rest the first supported
 * zones (by zone name when the account's zones are known, else in the table's order). Refuses a
 * region with fewer than three supported zones, a region the table lacks unless all three are
 * given, a zone ID given twice or not in the region, and says so in one sentence each.
 *
 * @param zones - the account's zones in the region (DescribeAvailabilityZones), or undefined in a dry run
 */
export const chooseZones = (
  region: string,
  given: Partial<Record<SubnetParam, string>>,
  zones: readonly Zone[] | undefined,
): ZoneChoice => {
  const notes: string[] = [];
  const explicit = subnetParams.map((p) => given[p]).filter((id): id is string => id !== undefined);
  for (const id of explicit) {
    if (!zoneIdPattern.test(id))
      throw new ConfigError(`${id} is not an Availability Zone ID such as use1-az4`);
    if (zones && !zones.some((z) => z.id === id)) {
      throw new ConfigError(
        `${id} is not an available zone of ${region} in this account (it has ${zones.map((z) => z.id).join(', ')})`,
      );
    }
  }
  if (new Set(explicit).size !== explicit.length) {
    throw new ConfigError(`the subnets need three different zones: ${explicit.join(', ')} repeats one`);
  }
  const table = redshiftServerlessZoneIds[region];
  if (!table && explicit.length < 3) {
    throw new ConfigError(
      `${region} is not a region where Redshift Serverless is known to run (infra/aws/deploy/zones.ts, from AWS's list); deploy to another region, or name its three zones with --param subnetAzIdA=… --param subnetAzIdB=… --param subnetAzIdC=…`,
    );
  }
  for (const id of explicit) {
    if (table && !table.includes(id)) {
      notes.push(
        `${id} is not among Redshift Serverless's zones in ${region} as AWS lists them; the workgroup may refuse it`,
      );
    }
  }
  const supported = supportedZoneIds(table ?? [], zones);
  if (supported.length < 3 && explicit.length < 3) {
    throw new ConfigError(
      `Redshift Serverless needs subnets in three zones, and ${region} has ${supported.length} it supports${zones ? ' in this account' : ''} (${supported.join(', ') || 'none'}): deploy to another region`,
    );
  }
  const free = supported.filter((id) => !explicit.includes(id));
  const ids = subnetParams.map((p) => given[p] ?? free.shift()!) as [string, string, string];
  return { ids, notes };
};

/** The supported zone IDs of the region, in the account's zone-name order when it is known. */
const supportedZoneIds = (table: readonly string[], zones: readonly Zone[] | undefined): string[] => {
  if (!zones) return [...table];
  return [...zones]
    .sort((a, b) => a.name.localeCompare(b.name))
    .filter((z) => table.includes(z.id))
    .map((z) => z.id);
};
