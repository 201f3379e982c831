/**
 * Reading resource properties that may be unknown during `pulumi preview`.
 *
 * @pulumi/policy hands policies a proxy that throws `UnknownValueError` on the first unknown it meets,
 * which aborts the whole policy for that resource. Policies here instead read the raw values, decide on
 * everything that is known, and collect what could not be checked in an `Unchecked`; at the end
 * `Unchecked.finish()` throws an `UnknownValueError` carrying that list, which the analyzer turns into an
 * advisory "can't run policy ... during preview" diagnostic next to any violations already reported.
 */
import * as policy from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";

type UnknownValueErrorCtor = new (sentinel: string, props: string[]) => Error;
type CheckingProxy = (value: object) => Record<string, unknown>;

// The package's .d.ts strips these @internal exports, so they are typed here.
const { UnknownValueError, unknownCheckingProxy } = policy as unknown as {
    UnknownValueError: UnknownValueErrorCtor;
    unknownCheckingProxy: CheckingProxy;
};

const proxyTargetKey = "__getSpecialProxyTarget";
const sentinelShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Marker returned by the readers below for a value that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Maybe<T> = T | undefined | typeof UNKNOWN;

/** True for the engine's "computed" sentinels, as recognised by @pulumi/policy's own proxy. */
export function isUnknownSentinel(value: unknown): value is string {
    if (typeof value !== "string" || !sentinelShape.test(value)) return false;
    try {
        void unknownCheckingProxy({ value }).value;
        return false;
    } catch (e) {
        return e instanceof UnknownValueError;
    }
}

/** The plain object behind @pulumi/policy's unknown-checking proxy (or the value itself). */
export function raw(value: unknown): unknown {
    if (value !== null && typeof value === "object") {
        const target = (value as Record<string, unknown>)[proxyTargetKey];
        if (target !== undefined) return target;
    }
    return value;
}

/**
 * Reads `path` (dot-separated, numeric segments index arrays) from raw props. Returns UNKNOWN when the
 * value or any container on the way is unknown, undefined when it is absent.
 */
export function get(props: unknown, path: string): unknown {
    let current: unknown = raw(props);
    for (const segment of path.split(".")) {
        if (isUnknownSentinel(current)) return UNKNOWN;
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[segment];
    }
    return isUnknownSentinel(current) ? UNKNOWN : current;
}

export function str(props: unknown, path: string): Maybe<string> {
    const value = get(props, path);
    if (value === UNKNOWN) return UNKNOWN;
    return typeof value === "string" ? value : undefined;
}

export function num(props: unknown, path: string): Maybe<number> {
    const value = get(props, path);
    if (value === UNKNOWN) return UNKNOWN;
    if (typeof value === "number") return value;
    // The engine carries some numbers as strings (e.g. launch template flags); accept a clean numeral.
    if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    return undefined;
}

export function bool(props: unknown, path: string): Maybe<boolean> {
    const value = get(props, path);
    if (value === UNKNOWN) return UNKNOWN;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    return undefined;
}

/** An array property: UNKNOWN if the array itself is unknown; unknown elements stay as UNKNOWN entries. */
export function list(props: unknown, path: string): Maybe<unknown[]> {
    const value = get(props, path);
    if (value === UNKNOWN) return UNKNOWN;
    if (!Array.isArray(value)) return undefined;
    return value.map((item) => (isUnknownSentinel(item) ? UNKNOWN : raw(item)));
}

/** Every value at a path with "[]" fan-out segments, as [concrete path, value]. */
export function collect(props: unknown, path: string): [string, unknown][] {
    const [head, ...rest] = path.split("[].");
    if (rest.length === 0) return [[head, get(props, head)]];
    const items = list(props, head);
    if (items === UNKNOWN) return [[head, UNKNOWN]];
    return (items ?? []).flatMap((item, i) =>
        item === UNKNOWN ? [[`${head}[${i}]`, UNKNOWN] as [string, unknown]] : collect(item, rest.join("[].")).map(([p, v]) => [`${head}[${i}].${p}`, v] as [string, unknown]),
    );
}

function summary(items: string[]): string {
    const shown = items.slice(0, 10);
    const more = items.length - shown.length;
    return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

/**
 * Collects what a policy could not check, and reports it once at the end: values unknown during preview,
 * and questions the stack cannot answer at all (e.g. the permissions of a role defined elsewhere).
 */
export class Unchecked {
    private readonly unknown: string[] = [];
    private readonly undecided: string[] = [];

    /** A value unknown until the resources are created. */
    add(what: string): void {
        this.unknown.push(what);
    }

    /** Something the policy cannot decide from this stack; `what` says what and why, and how to make it decidable. */
    undecidable(what: string): void {
        this.undecided.push(what);
    }

    /**
     * Throws the collected list as an UnknownValueError: the analyzer reports it as an advisory diagnostic
     * instead of a violation, so nothing unchecked passes silently and nothing is failed on a guess.
     */
    finish(): void {
        if (this.unknown.length === 0 && this.undecided.length === 0) return;
        const parts: string[] = [];
        if (this.undecided.length > 0) parts.push(`${summary(this.undecided)}.`);
        if (this.unknown.length > 0) {
            parts.push(
                `could not be fully checked because these values are unknown until the resources are created: ${summary(this.unknown)}. ` +
                    "The policy checks them again once they are resolved during `pulumi up`.",
            );
        }
        const error = new UnknownValueError(unknownValue, []);
        error.message = parts.join(" ");
        throw error;
    }
}
