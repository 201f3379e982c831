import { T } from "./stack";
import { get } from "./unknown";

/** Resources that launch an instance with their own instance settings: instances and spot instance requests. */
export function isInstanceLike(type: string): boolean {
    return type === T.instance || type === T.spotInstanceRequest;
}

/**
 * An instance launched from a launch template (named by id or name, possibly unknown during preview):
 * EC2 takes what the instance leaves unset from the template, which the policies check on its own.
 */
export function fromLaunchTemplate(type: string, props: unknown): boolean {
    return isInstanceLike(type) && get(props, "launchTemplate") !== undefined;
}
