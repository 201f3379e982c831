/**
 * Published privilege-escalation paths: the actions a principal needs together to act with more permissions
 * than its own (another role's, a new policy's, a user's credentials), on which IAM resource types, and the
 * public write-up of each. Sources: Rhino Security Labs' "AWS IAM Privilege Escalation Methods" (methods
 * 1-21), BishopFox iam-vulnerable (one Terraform module per path) and DataDog's pathfinding.cloud (one page
 * per path, with its id). A path whose actions include another path's is left out and named among that
 * path's sources: the smaller one is reported whenever the larger one could be (tests hold the catalog to it).
 */

export interface Source {
    name: string;
    url: string;
}

export interface Step {
    /** The IAM action, as the service authorization reference spells it. */
    action: string;
    /**
     * Resource types (service authorization reference names) the action must be allowed on, any one of them;
     * absent for an action that takes only Resource "*".
     */
    on?: string[];
    /** Resource types the same request must also be allowed on (the SSM document SendCommand runs). */
    alsoOn?: string[];
    /**
     * The role the action reaches must be one the stack does not define: passing or assuming the stack's own
     * role yields only permissions the pack already holds to least privilege.
     */
    beyondOwnRoles?: boolean;
    /** Request context the path's request carries, e.g. the service a role is passed to. */
    context?: Record<string, string>;
}

export interface EscalationPath {
    /** The pathfinding.cloud id where it has one, else the iam-vulnerable module. */
    id: string;
    /** What the actions let a principal do. */
    gains: string;
    steps: Step[];
    sources: Source[];
}

const rhino = (method: number): Source => ({
    name: `Rhino Security Labs, AWS IAM privilege escalation method ${method}`,
    url: "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/",
});
const iamVulnerable = (module: string): Source => ({
    name: `BishopFox iam-vulnerable ${module}`,
    url: `https://github.com/BishopFox/iam-vulnerable/blob/main/modules/free-resources/privesc-paths/${module}.tf`,
});
const pathfinding = (id: string): Source => ({ name: `pathfinding.cloud ${id}`, url: `https://pathfinding.cloud/paths/${id}` });
const boundaries: Source = {
    name: "AWS IAM User Guide, permissions boundaries (a principal that can change its own boundary is not bounded)",
    url: "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
};

const passRole = (service?: string): Step => ({
    action: "iam:PassRole",
    on: ["role"],
    beyondOwnRoles: true,
    ...(service ? { context: { "iam:PassedToService": service } } : {}),
});

export const escalationPaths: EscalationPath[] = [
    // A principal changes its own or another principal's permissions.
    {
        id: "iam-001",
        gains: "write a new default version of a customer managed policy attached to it or to a role it can use, granting anything",
        steps: [{ action: "iam:CreatePolicyVersion", on: ["policy"] }],
        sources: [pathfinding("iam-001"), rhino(1), iamVulnerable("privesc1-CreateNewPolicyVersion"), pathfinding("iam-016"), pathfinding("iam-020")],
    },
    {
        id: "privesc2-SetExistingDefaultPolicyVersion",
        gains: "make an older, broader version of a customer managed policy the default",
        steps: [{ action: "iam:SetDefaultPolicyVersion", on: ["policy"] }],
        sources: [rhino(2), iamVulnerable("privesc2-SetExistingDefaultPolicyVersion")],
    },
    {
        id: "iam-009",
        gains: "attach any managed policy (AdministratorAccess) to a role",
        steps: [{ action: "iam:AttachRolePolicy", on: ["role"] }],
        sources: [pathfinding("iam-009"), rhino(9), iamVulnerable("privesc9-AttachRolePolicy"), pathfinding("iam-014"), pathfinding("iam-019")],
    },
    {
        id: "iam-005",
        gains: "write any inline policy on a role",
        steps: [{ action: "iam:PutRolePolicy", on: ["role"] }],
        sources: [pathfinding("iam-005"), rhino(12), iamVulnerable("privesc12-PutRolePolicy"), pathfinding("iam-017"), pathfinding("iam-021")],
    },
    {
        id: "iam-008",
        gains: "attach any managed policy to a user",
        steps: [{ action: "iam:AttachUserPolicy", on: ["user"] }],
        sources: [pathfinding("iam-008"), rhino(7), iamVulnerable("privesc7-AttachUserPolicy"), pathfinding("iam-015")],
    },
    {
        id: "iam-007",
        gains: "write any inline policy on a user",
        steps: [{ action: "iam:PutUserPolicy", on: ["user"] }],
        sources: [pathfinding("iam-007"), rhino(10), iamVulnerable("privesc10-PutUserPolicy"), pathfinding("iam-018")],
    },
    {
        id: "iam-010",
        gains: "attach any managed policy to a group",
        steps: [{ action: "iam:AttachGroupPolicy", on: ["group"] }],
        sources: [pathfinding("iam-010"), rhino(8), iamVulnerable("privesc8-AttachGroupPolicy")],
    },
    {
        id: "iam-011",
        gains: "write any inline policy on a group",
        steps: [{ action: "iam:PutGroupPolicy", on: ["group"] }],
        sources: [pathfinding("iam-011"), rhino(11), iamVulnerable("privesc11-PutGroupPolicy")],
    },
    {
        id: "iam-013",
        gains: "add a user to a more privileged group",
        steps: [{ action: "iam:AddUserToGroup", on: ["group"] }],
        sources: [pathfinding("iam-013"), rhino(13), iamVulnerable("privesc13-AddUserToGroup")],
    },
    {
        id: "iam-012",
        gains: "rewrite a role's trust policy so it can assume the role",
        steps: [{ action: "iam:UpdateAssumeRolePolicy", on: ["role"] }],
        sources: [pathfinding("iam-012"), rhino(14), iamVulnerable("privesc14-UpdatingAssumeRolePolicy")],
    },
    {
        id: "iam-002",
        gains: "create access keys for another user and act as that user",
        steps: [{ action: "iam:CreateAccessKey", on: ["user"] }],
        sources: [pathfinding("iam-002"), rhino(4), iamVulnerable("privesc4-CreateAccessKey"), pathfinding("iam-003")],
    },
    {
        id: "iam-004",
        gains: "give a user without one a console password and sign in as that user",
        steps: [{ action: "iam:CreateLoginProfile", on: ["user"] }],
        sources: [pathfinding("iam-004"), rhino(5), iamVulnerable("privesc5-CreateLoginProfile")],
    },
    {
        id: "iam-006",
        gains: "change another user's console password and sign in as that user",
        steps: [{ action: "iam:UpdateLoginProfile", on: ["user"] }],
        sources: [pathfinding("iam-006"), rhino(6), iamVulnerable("privesc6-UpdateLoginProfile")],
    },
    {
        id: "delete-role-permissions-boundary",
        gains: "remove the permissions boundary that caps a role",
        steps: [{ action: "iam:DeleteRolePermissionsBoundary", on: ["role"] }],
        sources: [boundaries],
    },
    {
        id: "put-role-permissions-boundary",
        gains: "replace a role's permissions boundary with a wider one",
        steps: [{ action: "iam:PutRolePermissionsBoundary", on: ["role"] }],
        sources: [boundaries],
    },
    {
        id: "delete-user-permissions-boundary",
        gains: "remove the permissions boundary that caps a user",
        steps: [{ action: "iam:DeleteUserPermissionsBoundary", on: ["user"] }],
        sources: [boundaries],
    },
    {
        id: "put-user-permissions-boundary",
        gains: "replace a user's permissions boundary with a wider one",
        steps: [{ action: "iam:PutUserPermissionsBoundary", on: ["user"] }],
        sources: [boundaries],
    },
    {
        id: "sts-001",
        gains: "assume a role this stack does not define, with whatever that role may do",
        steps: [{ action: "sts:AssumeRole", on: ["role"], beyondOwnRoles: true }],
        sources: [pathfinding("sts-001"), iamVulnerable("privesc-AssumeRole")],
    },

    // A principal passes a role it does not hold to a new compute resource whose code it controls.
    {
        id: "ec2-001",
        gains: "launch an instance with a more privileged role's instance profile and read the role's credentials from it",
        steps: [passRole("ec2.amazonaws.com"), { action: "ec2:RunInstances", on: ["instance"] }],
        sources: [pathfinding("ec2-001"), rhino(3), iamVulnerable("privesc3-CreateEC2WithExistingIP")],
    },
    {
        id: "ec2-003",
        gains: "request a spot instance with a more privileged role's instance profile",
        steps: [passRole("ec2.amazonaws.com"), { action: "ec2:RequestSpotInstances", on: ["spot-instances-request"] }],
        sources: [pathfinding("ec2-003")],
    },
    {
        id: "lambda-001",
        gains: "create a function with a more privileged role and invoke it",
        steps: [passRole("lambda.amazonaws.com"), { action: "lambda:CreateFunction", on: ["function"] }, { action: "lambda:InvokeFunction", on: ["function"] }],
        sources: [pathfinding("lambda-001"), rhino(15), iamVulnerable("privesc15-PassExistingRoleToNewLambdaThenInvoke")],
    },
    {
        id: "lambda-002",
        gains: "create a function with a more privileged role and have an event source (a DynamoDB stream) run it",
        steps: [passRole("lambda.amazonaws.com"), { action: "lambda:CreateFunction", on: ["function"] }, { action: "lambda:CreateEventSourceMapping" }],
        sources: [pathfinding("lambda-002"), rhino(16), iamVulnerable("privesc16-PassRoleToNewLambdaThenTriggerWithNewDynamo")],
    },
    {
        id: "lambda-006",
        gains: "create a function with a more privileged role and let anyone invoke it through its resource policy",
        steps: [passRole("lambda.amazonaws.com"), { action: "lambda:CreateFunction", on: ["function"] }, { action: "lambda:AddPermission", on: ["function"] }],
        sources: [pathfinding("lambda-006")],
    },
    {
        id: "glue-001",
        gains: "create a Glue development endpoint with a more privileged role and log in to it",
        steps: [passRole("glue.amazonaws.com"), { action: "glue:CreateDevEndpoint" }],
        sources: [pathfinding("glue-001"), rhino(18), iamVulnerable("privesc18-PassExistingRoleToNewGlueDevEndpoint")],
    },
    {
        id: "glue-003",
        gains: "create a Glue job with a more privileged role and run it",
        steps: [passRole("glue.amazonaws.com"), { action: "glue:CreateJob", on: ["job"] }, { action: "glue:StartJobRun", on: ["job"] }],
        sources: [pathfinding("glue-003")],
    },
    {
        id: "glue-004",
        gains: "create a Glue job with a more privileged role and a trigger that runs it",
        steps: [passRole("glue.amazonaws.com"), { action: "glue:CreateJob", on: ["job"] }, { action: "glue:CreateTrigger", on: ["trigger"] }],
        sources: [pathfinding("glue-004")],
    },
    {
        id: "glue-005",
        gains: "give an existing Glue job a more privileged role and new code, and run it",
        steps: [passRole("glue.amazonaws.com"), { action: "glue:UpdateJob", on: ["job"] }, { action: "glue:StartJobRun", on: ["job"] }],
        sources: [pathfinding("glue-005")],
    },
    {
        id: "glue-006",
        gains: "give an existing Glue job a more privileged role and new code, and a trigger that runs it",
        steps: [passRole("glue.amazonaws.com"), { action: "glue:UpdateJob", on: ["job"] }, { action: "glue:CreateTrigger", on: ["trigger"] }],
        sources: [pathfinding("glue-006")],
    },
    {
        id: "cloudformation-001",
        gains: "create a stack whose template CloudFormation deploys with a more privileged service role",
        steps: [passRole("cloudformation.amazonaws.com"), { action: "cloudformation:CreateStack", on: ["stack"] }],
        sources: [pathfinding("cloudformation-001"), rhino(20), iamVulnerable("privesc20-PassExistingRoleToCloudFormation")],
    },
    {
        id: "cloudformation-003",
        gains: "create a stack set deployed with a more privileged execution role",
        steps: [passRole(), { action: "cloudformation:CreateStackSet" }, { action: "cloudformation:CreateStackInstances", on: ["stackset"] }],
        sources: [pathfinding("cloudformation-003")],
    },
    {
        id: "cloudformation-004",
        gains: "update a stack set so it deploys with a more privileged execution role",
        steps: [passRole(), { action: "cloudformation:UpdateStackSet", on: ["stackset"] }],
        sources: [pathfinding("cloudformation-004")],
    },
    {
        id: "datapipeline-001",
        gains: "create a Data Pipeline whose activities run shell commands as a more privileged role",
        steps: [
            passRole(),
            { action: "datapipeline:CreatePipeline" },
            { action: "datapipeline:PutPipelineDefinition", on: ["pipeline"] },
            { action: "datapipeline:ActivatePipeline", on: ["pipeline"] },
        ],
        sources: [pathfinding("datapipeline-001"), rhino(21), iamVulnerable("privesc21-PassExistingRoleToNewDataPipeline")],
    },
    {
        id: "sagemaker-001",
        gains: "create a notebook instance with a more privileged execution role and run code in its Jupyter terminal",
        steps: [passRole("sagemaker.amazonaws.com"), { action: "sagemaker:CreateNotebookInstance", on: ["notebook-instance"] }],
        sources: [pathfinding("sagemaker-001"), iamVulnerable("privesc-sageMakerCreateNotebookPassRole")],
    },
    {
        id: "sagemaker-002",
        gains: "run a training job whose container executes its code with a more privileged execution role",
        steps: [passRole("sagemaker.amazonaws.com"), { action: "sagemaker:CreateTrainingJob", on: ["training-job"] }],
        sources: [pathfinding("sagemaker-002"), iamVulnerable("privesc-sageMakerCreateTrainingJob")],
    },
    {
        id: "sagemaker-003",
        gains: "run a processing job whose container executes its code with a more privileged execution role",
        steps: [passRole("sagemaker.amazonaws.com"), { action: "sagemaker:CreateProcessingJob", on: ["processing-job"] }],
        sources: [pathfinding("sagemaker-003"), iamVulnerable("privesc-sageMakerCreateProcessingJob")],
    },
    {
        id: "ecs-003",
        gains: "register a task definition with a more privileged task role and run it as a service",
        steps: [passRole("ecs-tasks.amazonaws.com"), { action: "ecs:RegisterTaskDefinition", on: ["task-definition"] }, { action: "ecs:CreateService", on: ["service"] }],
        sources: [pathfinding("ecs-003"), pathfinding("ecs-001")],
    },
    {
        id: "ecs-004",
        gains: "register a task definition with a more privileged task role and run it",
        steps: [passRole("ecs-tasks.amazonaws.com"), { action: "ecs:RegisterTaskDefinition", on: ["task-definition"] }, { action: "ecs:RunTask", on: ["task-definition"] }],
        sources: [pathfinding("ecs-004"), pathfinding("ecs-002")],
    },
    {
        id: "ecs-005",
        gains: "register a task definition with a more privileged task role and start it on a container instance",
        steps: [passRole("ecs-tasks.amazonaws.com"), { action: "ecs:RegisterTaskDefinition", on: ["task-definition"] }, { action: "ecs:StartTask", on: ["task-definition"] }],
        sources: [pathfinding("ecs-005")],
    },
    {
        id: "apprunner-001",
        gains: "create an App Runner service with a more privileged instance role",
        steps: [passRole(), { action: "apprunner:CreateService", on: ["service"] }],
        sources: [pathfinding("apprunner-001")],
    },

    // A principal runs its own code or commands where an existing resource already holds a role.
    {
        id: "lambda-003",
        gains: "replace an existing function's code, which then runs with the function's role",
        steps: [{ action: "lambda:UpdateFunctionCode", on: ["function"] }],
        sources: [pathfinding("lambda-003"), rhino(17), iamVulnerable("privesc17-EditExistingLambdaFunctionWithRole"), pathfinding("lambda-004"), pathfinding("lambda-005")],
    },
    {
        id: "glue-002",
        gains: "add its SSH key to an existing Glue development endpoint and log in as the endpoint's role",
        steps: [{ action: "glue:UpdateDevEndpoint", on: ["devendpoint"] }],
        sources: [pathfinding("glue-002"), rhino(19), iamVulnerable("privesc19-UpdateExistingGlueDevEndpoint")],
    },
    {
        id: "cloudformation-002",
        gains: "update an existing stack's template, which CloudFormation deploys with the stack's service role (or a role passed with iam:PassRole)",
        steps: [{ action: "cloudformation:UpdateStack", on: ["stack"] }],
        sources: [pathfinding("cloudformation-002"), iamVulnerable("privesc-cloudFormationUpdateStack")],
    },
    {
        id: "cloudformation-005",
        gains: "create and execute a change set on an existing stack, deployed with the stack's service role",
        steps: [{ action: "cloudformation:CreateChangeSet", on: ["stack"] }, { action: "cloudformation:ExecuteChangeSet", on: ["stack"] }],
        sources: [pathfinding("cloudformation-005")],
    },
    {
        id: "codebuild-002",
        gains: "start a build of an existing project with its own buildspec, run with the project's service role",
        steps: [{ action: "codebuild:StartBuild", on: ["project"] }],
        sources: [pathfinding("codebuild-002"), pathfinding("codebuild-001"), iamVulnerable("privesc-codeBuildCreateProjectPassRole")],
    },
    {
        id: "codebuild-003",
        gains: "start a build batch of an existing project with its own buildspec, run with the project's service role",
        steps: [{ action: "codebuild:StartBuildBatch", on: ["project"] }],
        sources: [pathfinding("codebuild-003"), pathfinding("codebuild-004")],
    },
    {
        id: "ec2-002",
        gains: "stop an instance, replace its user data with a script and start it, running the script with the instance's role",
        steps: [
            { action: "ec2:ModifyInstanceAttribute", on: ["instance"] },
            { action: "ec2:StopInstances", on: ["instance"] },
            { action: "ec2:StartInstances", on: ["instance"] },
        ],
        sources: [pathfinding("ec2-002")],
    },
    {
        id: "ec2-004",
        gains: "make a launch template's default version one whose user data or instance profile it chose",
        steps: [{ action: "ec2:CreateLaunchTemplateVersion", on: ["launch-template"] }, { action: "ec2:ModifyLaunchTemplate", on: ["launch-template"] }],
        sources: [pathfinding("ec2-004")],
    },
    {
        id: "ec2instanceconnect-003",
        gains: "push an SSH key to an instance with EC2 Instance Connect, log in and use the instance's role",
        steps: [{ action: "ec2-instance-connect:SendSSHPublicKey", on: ["instance"] }],
        sources: [pathfinding("ec2instanceconnect-003"), iamVulnerable("privesc-ec2InstanceConnect")],
    },
    {
        id: "privesc-ec2InstanceConnect-serial-console",
        gains: "push an SSH key to an instance's serial console, log in and use the instance's role",
        steps: [{ action: "ec2-instance-connect:SendSerialConsoleSSHPublicKey", on: ["instance"] }],
        sources: [iamVulnerable("privesc-ec2InstanceConnect")],
    },
    {
        id: "ssm-001",
        gains: "open a Session Manager shell on an instance and use the instance's role",
        steps: [{ action: "ssm:StartSession", on: ["instance", "managed-instance"] }],
        sources: [pathfinding("ssm-001"), iamVulnerable("privesc-ssmStartSession")],
    },
    {
        id: "ssm-002",
        gains: "run commands on an instance with Run Command and use the instance's role",
        steps: [{ action: "ssm:SendCommand", on: ["instance", "managed-instance"], alsoOn: ["document"] }],
        sources: [pathfinding("ssm-002"), iamVulnerable("privesc-ssmSendCommand")],
    },
    {
        id: "sagemaker-004",
        gains: "open an existing notebook instance's Jupyter with a presigned URL and run code as its execution role",
        steps: [{ action: "sagemaker:CreatePresignedNotebookInstanceUrl", on: ["notebook-instance"] }],
        sources: [pathfinding("sagemaker-004"), iamVulnerable("privesc-sageMakerCreatePresignedNotebookURL")],
    },
    {
        id: "sagemaker-005",
        gains: "attach its own lifecycle configuration to an existing notebook instance and restart it, running the script as the notebook's role",
        steps: [
            { action: "sagemaker:CreateNotebookInstanceLifecycleConfig", on: ["notebook-instance-lifecycle-config"] },
            { action: "sagemaker:StopNotebookInstance", on: ["notebook-instance"] },
            { action: "sagemaker:UpdateNotebookInstance", on: ["notebook-instance"] },
            { action: "sagemaker:StartNotebookInstance", on: ["notebook-instance"] },
        ],
        sources: [pathfinding("sagemaker-005")],
    },
    {
        id: "apprunner-002",
        gains: "update an existing App Runner service to run its own image or code with the service's instance role",
        steps: [{ action: "apprunner:UpdateService", on: ["service"] }],
        sources: [pathfinding("apprunner-002")],
    },
];
