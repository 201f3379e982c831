import { T } from "./stack";
import { get } from "./unknown";

/**
 * An instance launched from a launch template (named by id or name, possibly unknown during preview):
 * EC2 takes what the instance leaves unset from the template, which the policies check on its own.
 */
export function fromLaunchTemplate(type: string, props: unknown): boolean {
    return type === T.instance && get(props, "launchTemplate") !== undefined;
}
