/**
 * Names the program derives from the project, stack and environment, so tools (`npm run status`) can find a
 * stack's endpoint and jobs before the stack has outputs: during the first `pulumi up` there are none yet.
 */

/** The endpoint's name and the prefix of the Lambda's: lower-case, `[a-z0-9-]`, at most 63 characters. */
export function stackBaseName(project: string, stack: string): string {
    return `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63);
}

/** Training and tuning job names are `<prefix>-<10 hex digits>`; tuning job names allow only 32 characters. */
export function trainingJobPrefix(environment: string): string {
    return `clf-${environment}`;
}

/** Whether `name` is a job name with this prefix (and not one of a tuning job's training jobs). */
export function isJobNameWithPrefix(name: string, prefix: string): boolean {
    return new RegExp(`^${prefix.replace(/[^a-z0-9]/gi, "\\$&")}-[0-9a-f]{10}$`).test(name);
}

/** Whether `name` is one of this environment's job names (and not one of a tuning job's training jobs). */
export function isStackJobName(name: string, environment: string): boolean {
    return isJobNameWithPrefix(name, trainingJobPrefix(environment));
}

/** The ARN of version `version` of a model package group (SageMaker lower-cases the group's name in it). */
export function modelPackageVersionArn(partition: string, region: string, accountId: string, groupName: string, version: number): string {
    return `arn:${partition}:sagemaker:${region}:${accountId}:model-package/${groupName.toLowerCase()}/${version}`;
}

/** The command that approves a model package version, as messages and `npm run status` show it. */
export function approveCommand(arn: string, region: string): string {
    return `aws sagemaker update-model-package --region ${region} --model-package-arn ${arn} --model-approval-status Approved`;
}
