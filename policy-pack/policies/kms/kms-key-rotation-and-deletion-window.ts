import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { bool, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "kms-key-rotation-and-deletion-window";

const configSchema = {
    properties: {
        minDeletionWindowDays: {
            type: "integer" as const,
            minimum: 7,
            maximum: 30,
            description:
                "Least deletionWindowInDays of a key: the time to cancel a deletion scheduled by mistake (or by `pulumi destroy`) before the data it encrypts is lost. " +
                "KMS accepts 7 to 30 and uses 30 when unset.",
            default: 30,
        },
    },
};

/** Only symmetric encryption keys can rotate automatically (asymmetric and HMAC keys cannot). */
function rotatable(spec: unknown, usage: unknown): boolean | typeof UNKNOWN {
    if (spec === UNKNOWN || usage === UNKNOWN) return UNKNOWN;
    return (spec === undefined || spec === "SYMMETRIC_DEFAULT") && (usage === undefined || usage === "ENCRYPT_DECRYPT");
}

export const kmsKeyRotationAndDeletionWindow: ResourceValidationPolicy & Implements = {
    name,
    description:
        "Every symmetric KMS key rotates its key material yearly (enableKeyRotation), no key is created disabled, and a key's deletion waits at least " +
        "minDeletionWindowDays, so a scheduled deletion can be cancelled before the data the key protects becomes unreadable.",
    enforcementLevel: "mandatory",
    configSchema,
    controls: ["SecurityHub KMS.3", "SecurityHub KMS.4", "Prowler kms_cmk_rotation_enabled", "Checkov CKV_AWS_7"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.kmsKey) return;
        const { minDeletionWindowDays } = args.getConfig<{ minDeletionWindowDays: number }>();
        const unchecked = new Unchecked();
        const subject = label(args);
        const spec = str(args.props, "customerMasterKeySpec");
        const canRotate = rotatable(spec, str(args.props, "keyUsage"));
        const rotation = bool(args.props, "enableKeyRotation");
        if (canRotate === UNKNOWN || rotation === UNKNOWN) unchecked.add(`enableKeyRotation, customerMasterKeySpec and keyUsage of ${subject}`);
        else if (canRotate && rotation !== true) {
            reportViolation(
                `${subject} does not rotate its key material (enableKeyRotation ${rotation ?? "unset, which KMS treats as false"}), so one key protects every ` +
                    "piece of data it ever encrypted. Set enableKeyRotation: true (KMS rotates yearly, or set rotationPeriodInDays).",
            );
        }
        const window = num(args.props, "deletionWindowInDays");
        if (window === UNKNOWN) unchecked.add(`deletionWindowInDays of ${subject}`);
        else if (window !== undefined && window < minDeletionWindowDays) {
            reportViolation(
                `${subject} would be deleted ${window} days after its deletion is scheduled, less than ${minDeletionWindowDays} (${name}.minDeletionWindowDays): ` +
                    `a deletion scheduled by mistake leaves little time to cancel it before the data it encrypts is lost. Set deletionWindowInDays: ${minDeletionWindowDays}.`,
            );
        }
        const enabled = bool(args.props, "isEnabled");
        if (enabled === UNKNOWN) unchecked.add(`isEnabled of ${subject}`);
        else if (enabled === false) {
            reportViolation(`${subject} is created disabled (isEnabled: false), so nothing it protects can be decrypted. Remove isEnabled: false, or delete the key through a scheduled deletion.`);
        }
        unchecked.finish();
    },
};
