/**
 * What the pack does about each control of industry-controls.tsv (Security Hub FSBP, AWS Config, Prowler,
 * Checkov and cdk-nag controls for this stack's resource types) that no policy enforces in prod: the reason.
 * Controls policies implement are listed in the policies' own `controls` fields; test/controls.test.ts holds
 * the three together, so no control is left without a policy or a reason.
 */

/** Controls no policy implements, and why. */
export const notEnforced: Record<string, string> = {
    "SecurityHub SageMaker.4":
        "Availability, not security: prod keeps one instance at minimum scale for cost and scales out on load (sagemaker-endpoint-autoscaling); " +
        "set sagemaker-endpoint-autoscaling.minCapacityFloor to 2 to require a second instance.",
    "Prowler sagemaker_endpoint_config_prod_variant_instances": "As SecurityHub SageMaker.4: availability; sagemaker-endpoint-autoscaling.minCapacityFloor 2 requires it.",
    "SecurityHub SageMaker.16":
        "Applies to a model whose image comes from a private Docker registry reached through a VPC (imageConfig.repositoryAccessMode Vpc); " +
        "the stack's models pull AWS Deep Learning Containers from Amazon ECR.",
    "SecurityHub SageMaker.23/.24": "Inference experiments (shadow tests) have no @pulumi/aws resource, so no stack of this kind creates one.",
    "SecurityHub Lambda.5":
        "Applies only to a function attached to a VPC; the stack's function is not (see AWSConfig lambda-inside-vpc), and a VPC function's subnets " +
        "are the VPC's design, outside the function's resource.",
    "Prowler awslambda_function_vpc_multi_az": "As SecurityHub Lambda.5: applies only to a function attached to a VPC.",
    "SecurityHub EC2.9":
        "The EC2 training run lands in the default VPC when no subnet is configured and needs a public address to reach S3, SSM and package " +
        "mirrors without a NAT; nothing reaches it inbound (ec2-no-public-ingress, no SSH key, Session Manager only) and it stops when training ends.",
    "AWSConfig lambda-dlq-check":
        "A dead-letter queue receives only failed asynchronous invocations; the inference function is invoked synchronously (direct invoke, " +
        "Function URL), so the caller gets every error.",
    "Prowler awslambda_function_no_dead_letter_queue": "As AWSConfig lambda-dlq-check: the function is invoked synchronously.",
    "Checkov CKV_AWS_116": "As AWSConfig lambda-dlq-check: the function is invoked synchronously.",
    "cdk-nag LambdaDLQ": "As AWSConfig lambda-dlq-check: the function is invoked synchronously.",
    "AWSConfig lambda-inside-vpc":
        "The function reaches only AWS APIs (SageMaker runtime, CloudWatch Logs), each scoped by its role (lambda-role-least-privilege); a VPC " +
        "would add NAT gateways or interface endpoints and isolate nothing the role does not already.",
    "Prowler awslambda_function_inside_vpc": "As AWSConfig lambda-inside-vpc.",
    "Checkov CKV_AWS_117": "As AWSConfig lambda-inside-vpc.",
    "cdk-nag LambdaInsideVPC": "As AWSConfig lambda-inside-vpc.",
    "AWSConfig iam-no-inline-policy-check":
        "Deliberate: each role's permissions are one inline document that lives and dies with the role, is judged whole by the least-privilege " +
        "policies and cannot be attached to a second role; customer managed policies are judged the same way when a stack uses them.",
    "cdk-nag IAMNoInlinePolicy": "As AWSConfig iam-no-inline-policy-check: inline documents are the project's design, judged by the least-privilege policies.",
    "Prowler sagemaker_models_monitor_enabled":
        "Needs a baseline dataset and a monitoring schedule the project does not define; prod captures requests and responses (data capture) " +
        "to the KMS-encrypted bucket for offline analysis.",
    "Prowler sagemaker_clarify_exists": "An account-level check that Clarify analysis jobs have run; jobs are runs, not resources a stack declares.",
    "Prowler awslambda_function_no_secrets_in_code":
        "A policy pack receives the function's code as an asset reference, not its files; environment variables are checked (no-plaintext-secrets).",
    "cdk-nag AwsSolutions-L1":
        "The pack requires a runtime AWS still supports (lambda-supported-runtime, by AWS's deprecation schedule); moving to the newest major " +
        "version is a planned code change, not a deploy gate.",
};

/** Controls policies implement but prod does not enforce: advisory in prod, or checked only under a setting prod leaves off. */
export const notEnforcedInProd: Record<string, string> = {
    "AWSConfig sagemaker-endpoint-configuration-kms-key-configured":
        "The endpoint's ML storage volume holds the model, trained on a public dataset, and no request data (data capture goes to the " +
        "KMS-encrypted bucket); SageMaker encrypts the volume with an AWS managed key. Set endpoint.kmsKeyArn in the stack config to use your own.",
    "Prowler sagemaker_endpoint_config_kms_encryption_enabled": "As AWSConfig sagemaker-endpoint-configuration-kms-key-configured.",
    "Checkov CKV_AWS_98": "As AWSConfig sagemaker-endpoint-configuration-kms-key-configured.",
    "cdk-nag *-SageMakerEndpointConfigurationKMSKeyConfigured (HIPAA/NIST/PCI)": "As AWSConfig sagemaker-endpoint-configuration-kms-key-configured.",
    "Prowler sagemaker_training_jobs_volume_and_output_encryption_enabled":
        "Training output lands in the artifact bucket, encrypted by its default SSE-KMS (s3-server-side-encryption, KMS in prod); the training " +
        "volume is scratch space of a job that ends, encrypted by SageMaker with an AWS managed key.",
    "Prowler sagemaker_training_jobs_network_isolation_enabled":
        "Checked with sagemaker-data-protection.requireNetworkIsolation; the project leaves it off with the models' (one switch for models and jobs).",
    "SecurityHub SageMaker.11/.12/.14/.20/.25":
        "Checked with sagemaker-data-protection.requireNetworkIsolation; the stack defines no monitoring jobs.",
    "AWSConfig sagemaker-model-in-vpc":
        "The stack creates no VPC, and the serving container must reach the internet for the image URLs; a VPC needs a NAT for that, which is " +
        "a network design for the account, not a policy default.",
    "Prowler sagemaker_models_vpc_settings_configured": "As AWSConfig sagemaker-model-in-vpc.",
    "Prowler sagemaker_training_jobs_vpc_settings_configured":
        "The stack creates no VPC; a training job reaches only S3 and ECR with its least-privilege role (iam-service-role-least-privilege).",
    "SecurityHub Lambda.7": "Tracing is observability, not a security gate; a traced function's role gets the X-Ray writes it needs (lambda-role-least-privilege.tracingActions).",
    "Checkov CKV_AWS_50": "As SecurityHub Lambda.7.",
    "cdk-nag LambdaTracing (Serverless)": "As SecurityHub Lambda.7.",
    "Checkov CKV_AWS_173":
        "The function's variables hold an endpoint name and switches, no secret (no-plaintext-secrets refuses secrets in them); Lambda encrypts " +
        "them at rest with its AWS managed key.",
    "Prowler awslambda_function_env_vars_not_encrypted_with_cmk": "As Checkov CKV_AWS_173.",
    "Checkov CKV_AWS_272":
        "Code signing needs an AWS Signer profile and a signing step in the deploy; the bundle is built and uploaded by the same `pulumi up` that " +
        "deploys it, from the repository's own source.",
    "cdk-nag LambdaDefaultMemorySize / LambdaDefaultTimeout (Serverless)": "Sizing, not security; the stack config sets both (api.memoryMb, api.timeoutSeconds).",
    "SecurityHub S3.9":
        "Access logs need a second bucket per stack; CloudTrail S3 data events, an account-level setting, record the same requests.",
};
