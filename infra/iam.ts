/** IAM document helpers: every role in this project is built from explicit statements on explicit ARNs. */
import * as pulumi from "@pulumi/pulumi";

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    /** Resource policies (key, topic) only; identity policies have none. */
    Principal?: Record<string, pulumi.Input<string>>;
    Action: string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
    return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** Trust policy for a role assumed by one AWS service, limited to this account where the service supports it. */
export function serviceTrustPolicy(service: string, accountId?: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: service },
                Action: "sts:AssumeRole",
                // Confused-deputy guard: only calls made on behalf of this account may assume the role.
                ...(accountId ? { Condition: { StringEquals: { "aws:SourceAccount": accountId } } } : {}),
            },
        ],
    });
}

export function s3BucketArn(partition: pulumi.Input<string>, bucket: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`arn:${partition}:s3:::${bucket}`;
}

/** ARN of every object under a key prefix (or of one object when `key` names a file). */
export function s3ObjectsArn(partition: pulumi.Input<string>, bucket: pulumi.Input<string>, keyPrefix: string): pulumi.Output<string> {
    const prefix = keyPrefix.replace(/^\/+|\/+$/g, "");
    return pulumi.interpolate`arn:${partition}:s3:::${bucket}/${prefix ? `${prefix}/*` : "*"}`;
}

export function s3ObjectArn(partition: pulumi.Input<string>, bucket: pulumi.Input<string>, key: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`arn:${partition}:s3:::${bucket}/${key}`;
}

/** Lets a principal list only the given prefix of a bucket. */
export function listPrefixStatement(sid: string, partition: pulumi.Input<string>, bucket: pulumi.Input<string>, keyPrefix: string): PolicyStatement {
    const prefix = keyPrefix.replace(/^\/+|\/+$/g, "");
    return {
        Sid: sid,
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: s3BucketArn(partition, bucket),
        Condition: { StringLike: { "s3:prefix": prefix ? [prefix, `${prefix}/*`] : ["*"] } },
    };
}
