import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { secretKind, secretsInScript } from "../../lib/secrets";
import { T } from "../../lib/stack";
import { get, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "no-plaintext-secrets";

const remedy =
    "Keep the secret in AWS Secrets Manager or an SSM SecureString parameter, pass its name or ARN instead, and let the code read it " +
    "with a permission on that one secret.";

export const noPlaintextSecrets: ResourceValidationPolicy & Implements = {
    name,
    description:
        "No Lambda environment variable and no SageMaker notebook lifecycle script holds a plaintext secret: a value shaped like a credential (AWS " +
        "access key, private key, GitHub/Slack/Stripe token, JWT, a password in a URL) or a literal under a secret-sounding name. Anyone who may read the " +
        "function's configuration or the notebook's lifecycle configuration reads it.",
    enforcementLevel: "mandatory",
    controls: ["Checkov CKV_AWS_45", "Prowler awslambda_function_no_secrets_in_variables", "Prowler sagemaker_notebook_instance_no_secrets"],
    validateResource: (args, reportViolation) => {
        const unchecked = new Unchecked();
        if (args.type === T.lambdaFunction) {
            const variables = get(args.props, "environment.variables");
            if (variables === UNKNOWN) unchecked.add(`environment.variables of ${label(args)}`);
            else if (variables !== null && typeof variables === "object") {
                for (const key of Object.keys(variables)) {
                    const value = str(variables, key);
                    if (value === UNKNOWN) continue; // Computed by another resource (a name, an ARN), not written in the program.
                    const kind = typeof value === "string" ? secretKind(key, value) : undefined;
                    if (kind) reportViolation(`${label(args)} environment variable ${key} holds ${kind} in plaintext, readable by anyone allowed lambda:GetFunctionConfiguration. ${remedy}`);
                }
            }
        } else if (args.type === T.notebookLifecycleConfiguration) {
            for (const script of ["onCreate", "onStart"]) {
                const encoded = str(args.props, script);
                if (encoded === UNKNOWN) unchecked.add(`${script} of ${label(args)}`);
                if (typeof encoded !== "string" || encoded === "") continue;
                const text = Buffer.from(encoded, "base64").toString("utf8");
                for (const kind of secretsInScript(text)) {
                    reportViolation(`${label(args)} ${script} script holds ${kind} in plaintext, readable by anyone allowed sagemaker:DescribeNotebookInstanceLifecycleConfig. ${remedy}`);
                }
            }
        } else {
            return;
        }
        unchecked.finish();
    },
};
