/** The private, encrypted, versioned bucket for the training code, model artifacts and training output. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { buildSourceArchive } from "../source-archive";

export interface ArtifactStoreArgs {
    /** The training-scripts directory to ship as sourcedir.tar.gz. */
    sourceDir: string;
    /** Where the archive is written before upload. */
    buildDir: string;
    /**
     * What `pulumi destroy` does with the bucket. `retain` (prod): the bucket, its settings and every object
     * version stay in the account and leave the stack, so destroy succeeds and no model or training output is
     * lost. `delete` (dev): the bucket is emptied of every object version and deleted.
     */
    onDestroy: "retain" | "delete";
    tags: Record<string, string>;
}

export class ArtifactStore extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    /** Key of the uploaded sourcedir.tar.gz. */
    readonly sourceKey: string;
    /** s3:// URI of the uploaded sourcedir.tar.gz. */
    readonly sourceUri: pulumi.Output<string>;
    /** SHA-256 of the code archive; names the training jobs so new code means a new job. */
    readonly sourceSha256: string;
    /** Prefix every training job and the EC2 instance write their output under. */
    readonly outputPrefix = "output";

    constructor(name: string, args: ArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:storage:ArtifactStore", name, {}, opts);
        // A versioned bucket with objects cannot be deleted without forceDestroy: either keep all of it or empty it.
        const retain = args.onDestroy === "retain";
        const child = { parent: this, retainOnDelete: retain };

        const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: !retain, tags: args.tags }, child);
        const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, child);
        new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
            bucket: bucket.id,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
        }, child);
        new aws.s3.BucketVersioning(`${name}-versioning`, {
            bucket: bucket.id,
            versioningConfiguration: { status: "Enabled" },
        }, child);
        new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
            bucket: bucket.id,
            rules: [{
                id: "expire-noncurrent-versions",
                status: "Enabled",
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: 30 },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            }],
        }, child);
        new aws.s3.BucketPolicy(`${name}-tls-only`, {
            bucket: bucket.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                }],
            }),
        }, { ...child, dependsOn: [publicAccess] });

        const archive = buildSourceArchive(args.sourceDir, path.join(args.buildDir, "sourcedir.tar.gz"));
        this.sourceSha256 = archive.sha256;
        this.sourceKey = `code/${archive.sha256.slice(0, 16)}/sourcedir.tar.gz`;
        new aws.s3.BucketObjectv2(`${name}-sourcedir`, {
            bucket: bucket.id,
            key: this.sourceKey,
            source: new pulumi.asset.FileAsset(archive.file),
            contentType: "application/gzip",
            tags: args.tags,
        }, child);

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.sourceUri = pulumi.interpolate`s3://${bucket.bucket}/${this.sourceKey}`;
        this.registerOutputs({ bucketName: this.bucketName, sourceUri: this.sourceUri });
    }
}
