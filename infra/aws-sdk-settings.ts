/**
 * How the program's own AWS SDK calls (the dynamic providers and pre-flight checks) reach AWS: in the stack's
 * region, as the same principal the stack's AWS provider uses.
 *
 * A dynamic resource's inputs are saved in the stack's state and are what its provider gets back on refresh and
 * delete, possibly on another machine (CI destroying what a laptop created). So the state holds only where the
 * resource lives (`AwsSdkSettings`: the region). Who to call AWS as is read where and when the provider runs:
 * the Pulumi engine hands a dynamic provider the whole stack config in `configure`, and `aws:profile` and
 * `aws:assumeRoles` from it (as the AWS provider reads them) apply on top of the SDK's default credential chain
 * (environment variables, SSO, instance roles). A stack config without a profile therefore uses whatever
 * credentials the machine running `pulumi` has, as the AWS provider does.
 */
import type * as pulumi from "@pulumi/pulumi";
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";

/** What a dynamic resource keeps in its state: the region it lives in. */
export interface AwsSdkSettings {
    region: string;
}

export interface AssumedRole {
    roleArn: string;
    externalId?: string;
    sessionName?: string;
    durationSeconds?: number;
}

/** Who the SDK calls AWS as, from the stack config of the run in progress; never saved in state. */
export interface AwsIdentity {
    profile?: string;
    /** Roles to assume in order (role chaining), as the provider's `aws:assumeRoles`. */
    assumeRoles: AssumedRole[];
}

/** Without stack config (a provider called outside the engine): the SDK's default chain. */
export const DEFAULT_IDENTITY: AwsIdentity = { assumeRoles: [] };

interface ProviderAssumeRole {
    roleArn?: string;
    externalId?: string;
    sessionName?: string;
    duration?: string;
}

/** "1h30m", "900s": the duration format of the provider's `assumeRoles[].duration`. */
export function parseDurationSeconds(text: string): number {
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
    if (!match || text.trim() === "") throw new Error(`aws:assumeRoles duration ${JSON.stringify(text)} is not a duration such as 1h or 45m`);
    return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** Stack config as the engine hands it to a dynamic provider: every value a string, objects as JSON. */
export interface StackConfigReader {
    get(key: string): string | undefined;
}

/** The identity `aws:profile` and `aws:assumeRoles` of the stack config describe. */
export function identityFromConfig(config: StackConfigReader): AwsIdentity {
    const rawRoles = config.get("aws:assumeRoles");
    let roles: ProviderAssumeRole[] = [];
    if (rawRoles !== undefined && rawRoles !== "") {
        const parsed = typeof rawRoles === "string" ? (JSON.parse(rawRoles) as unknown) : (rawRoles as unknown);
        if (!Array.isArray(parsed)) throw new Error("aws:assumeRoles must be a list of roles ({roleArn, externalId, sessionName, duration})");
        roles = parsed as ProviderAssumeRole[];
    }
    const profile = config.get("aws:profile");
    return {
        ...(profile ? { profile } : {}),
        assumeRoles: roles.filter((r) => r.roleArn).map((r) => ({
            roleArn: r.roleArn as string,
            ...(r.externalId ? { externalId: r.externalId } : {}),
            ...(r.sessionName ? { sessionName: r.sessionName } : {}),
            ...(r.duration ? { durationSeconds: parseDurationSeconds(r.duration) } : {}),
        })),
    };
}

/** The credential provider for an identity: the profile (or the default chain), then each role in turn. */
export function credentialsFor(identity: AwsIdentity, region: string): AwsCredentialIdentityProvider {
    let credentials: AwsCredentialIdentityProvider = identity.profile ? fromIni({ profile: identity.profile }) : fromNodeProviderChain();
    for (const role of identity.assumeRoles) {
        credentials = fromTemporaryCredentials({
            masterCredentials: credentials,
            params: {
                RoleArn: role.roleArn,
                ExternalId: role.externalId,
                RoleSessionName: role.sessionName ?? "sagemaker-classifier",
                DurationSeconds: role.durationSeconds,
            },
            clientConfig: { region },
        });
    }
    return credentials;
}

/** What an AWS SDK v3 client is constructed with: the state's region, the run's identity. */
export function sdkClientConfig(settings: AwsSdkSettings, identity: AwsIdentity): { region: string; credentials: AwsCredentialIdentityProvider } {
    return { region: settings.region, credentials: credentialsFor(identity, settings.region) };
}

/**
 * Base of the project's dynamic providers that call AWS: the engine calls `configure` with the stack config
 * before any other method, on the machine doing the work. Calls outside the engine (tests) get the default chain.
 */
export abstract class AwsDynamicProvider {
    protected identity: AwsIdentity = DEFAULT_IDENTITY;

    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
        this.identity = identityFromConfig(req.config);
    }
}
