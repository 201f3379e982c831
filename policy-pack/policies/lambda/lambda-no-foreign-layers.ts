import { StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { homeOf } from "../../lib/own-resources";
import { StackIndex, T } from "../../lib/stack";
import { list, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-no-foreign-layers";

const configSchema = {
    properties: {
        trustedLayerAccounts: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Accounts besides the stack's own whose layers a function may load (e.g. AWS's published Lambda Insights or Powertools layer accounts).",
            default: [] as string[],
        },
    },
};

export const lambdaNoForeignLayers: StackValidationPolicy & Implements = {
    name,
    description:
        "A Lambda function loads layers only from the stack's own account or a trusted one: a layer's code runs inside the function with its role, " +
        "and its owner can publish a new version at any time.",
    enforcementLevel: "mandatory",
    configSchema,
    controls: ["Prowler awslambda_function_using_cross_account_layers"],
    validateStack: (args, reportViolation) => {
        const { trustedLayerAccounts } = args.getConfig<{ trustedLayerAccounts: string[] }>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const own = homeOf(index).accounts;
        for (const fn of index.of(T.lambdaFunction)) {
            const layers = list(fn.props, "layers");
            if (layers === UNKNOWN) {
                unchecked.add(`layers of ${label(fn)}`);
                continue;
            }
            for (const layer of layers ?? []) {
                if (layer === UNKNOWN) {
                    unchecked.add(`a layer of ${label(fn)}`);
                    continue;
                }
                const account = typeof layer === "string" ? layer.split(":")[4] : undefined;
                if (account === undefined || own.has(account) || trustedLayerAccounts.includes(account)) continue;
                if (own.size === 0) {
                    unchecked.undecidable(`whether layer ${String(layer)} of ${label(fn)} is the stack's own (the stack's account is not known)`);
                    continue;
                }
                reportViolation(
                    `${label(fn)} loads layer ${String(layer)} from account ${account}, which is neither the stack's (${[...own].join(", ")}) nor trusted: ` +
                        `its code runs with the function's role, and that account can publish new versions. Copy the layer into your account, or list ${account} in ${name}.trustedLayerAccounts.`,
                    fn.urn,
                );
            }
        }
        unchecked.finish();
    },
};
