/**
 * The identity and region the stack's AWS provider uses (`aws:region`, `aws:profile`, `aws:assumeRoles`), for
 * the program's own AWS SDK calls (the dynamic providers and pre-flight checks): they must act as the same
 * principal in the same region as the provider, not as whatever the SDK's default chain finds. The settings
 * travel as plain data (no secrets: keys stay in the environment or the profile) and become a credential
 * provider that refreshes itself, so a wait longer than one STS session keeps working.
 */
import * as pulumi from "@pulumi/pulumi";
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentityProvider } from "@aws-sdk/types";

export interface AssumedRole {
    roleArn: string;
    externalId?: string;
    sessionName?: string;
    durationSeconds?: number;
}

export interface AwsSdkSettings {
    region: string;
    profile?: string;
    /** Roles to assume in order (role chaining), as the provider's `aws:assumeRoles`. */
    assumeRoles: AssumedRole[];
}

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

/** The settings of the stack's default AWS provider; `region` is the one the stack deploys to. */
export function providerSdkSettings(region: string): AwsSdkSettings {
    const aws = new pulumi.Config("aws");
    const roles = aws.getObject<ProviderAssumeRole[]>("assumeRoles") ?? [];
    return {
        region,
        profile: aws.get("profile"),
        assumeRoles: roles.filter((r) => r.roleArn).map((r) => ({
            roleArn: r.roleArn as string,
            externalId: r.externalId,
            sessionName: r.sessionName,
            durationSeconds: r.duration ? parseDurationSeconds(r.duration) : undefined,
        })),
    };
}

/** The credential provider for these settings: the profile (or the default chain), then each role in turn. */
export function credentialsFor(settings: AwsSdkSettings): AwsCredentialIdentityProvider {
    let credentials: AwsCredentialIdentityProvider = settings.profile ? fromIni({ profile: settings.profile }) : fromNodeProviderChain();
    for (const role of settings.assumeRoles) {
        credentials = fromTemporaryCredentials({
            masterCredentials: credentials,
            params: {
                RoleArn: role.roleArn,
                ExternalId: role.externalId,
                RoleSessionName: role.sessionName ?? "sagemaker-classifier",
                DurationSeconds: role.durationSeconds,
            },
            clientConfig: { region: settings.region },
        });
    }
    return credentials;
}

/** What an AWS SDK v3 client is constructed with. */
export function sdkClientConfig(settings: AwsSdkSettings): { region: string; credentials: AwsCredentialIdentityProvider } {
    return { region: settings.region, credentials: credentialsFor(settings) };
}
